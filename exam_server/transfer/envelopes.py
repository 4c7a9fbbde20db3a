"""A signed envelope: a zip holding ``manifest.json`` (a header and the SHA-256 of every member), its Ed25519
signature over the JCS-canonical manifest, and the members. Whoever holds the signer's public key can check
that nothing was added, removed or changed; the contents may themselves be encrypted (packages) or not
(result bundles)."""
from __future__ import annotations

import base64
import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from typing import Mapping

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ..certificate_signing import canonical, key_id

MANIFEST, SIGNATURE = "manifest.json", "manifest.sig"
FORMAT = 1
MAX_MEMBERS = 10_000
FIXED_TIME = (1980, 1, 1, 0, 0, 0)     # no clock in the bytes: the same content seals to the same envelope


class EnvelopeError(Exception):
    """An envelope that must be refused; ``key`` is a message key in the catalogues, ``detail`` says which part."""

    def __init__(self, key: str, detail: str = ""):
        super().__init__(f"{key}: {detail}" if detail else key)
        self.key, self.detail = key, detail


@dataclass(frozen=True)
class Envelope:
    header: dict
    members: dict[str, bytes]
    signer: str          # the key id that signed it


def seal(kind: str, header: Mapping, members: Mapping[str, bytes], key: Ed25519PrivateKey) -> bytes:
    manifest = {"format": FORMAT, "kind": kind, "signer": key_id(key.public_key()), "header": dict(header),
                "members": {name: hashlib.sha256(data).hexdigest() for name, data in members.items()}}
    body = canonical(manifest)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:   # contents are mostly ciphertext already
        for name, data in ((MANIFEST, body), (SIGNATURE, base64.urlsafe_b64encode(key.sign(body))), *members.items()):
            archive.writestr(zipfile.ZipInfo(name, FIXED_TIME), data)
    return out.getvalue()


def open_envelope(data: bytes, kind: str, signers: Mapping[str, Ed25519PublicKey]) -> Envelope:
    """Check the signature against the trusted ``signers`` (key id → public key) and every member's hash."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = archive.namelist()
        if len(names) > MAX_MEMBERS or len(set(names)) != len(names):
            raise EnvelopeError("transfer.malformed", "members")
        body, signature = archive.read(MANIFEST), base64.urlsafe_b64decode(archive.read(SIGNATURE))
        manifest = json.loads(body)
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise EnvelopeError("transfer.malformed", str(exc)) from None
    public = signers.get(manifest.get("signer", ""))
    if public is None:
        raise EnvelopeError("transfer.unknown_signer", str(manifest.get("signer", "")))
    try:
        public.verify(signature, canonical(manifest))
    except (InvalidSignature, ValueError):
        raise EnvelopeError("transfer.bad_signature") from None
    if manifest.get("kind") != kind or manifest.get("format") != FORMAT:
        raise EnvelopeError("transfer.wrong_kind", f"{manifest.get('kind')}/{manifest.get('format')}")
    listed = manifest["members"]
    present = set(names) - {MANIFEST, SIGNATURE}
    if present != set(listed):
        raise EnvelopeError("transfer.malformed", "members differ from the manifest")
    members = {}
    for name, digest in listed.items():
        content = archive.read(name)
        if hashlib.sha256(content).hexdigest() != digest:
            raise EnvelopeError("transfer.bad_member", name)
        members[name] = content
    return Envelope(manifest["header"], members, manifest["signer"])
