"""Signing and verifying certificate records: Ed25519 over the RFC 8785 (JCS) canonical JSON of the record.

No database and no Flask here, so that `examctl cert verify` works offline with only the published public key.

The QR code carries ``{base_url}/v/{public_id}#{record}.{key_id}.{signature}`` (record and signature in
base64url): a phone opens the public page, and a verifier checks the part after ``#`` without any server.
"""
from __future__ import annotations

import base64
import hashlib
import json
import math
from dataclasses import dataclass
from typing import Any, Mapping

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

RECORD_TYPE = "职业技能等级证书"
AWARD_RECORD_TYPE = "技能竞赛获奖证书"     # competition award certificates (award_certificates.py), signed alike
PAYLOAD_MARK = "EXCERT1"        # in the PDF's keywords, ahead of the payload, so that the file can be verified


class SignatureError(Exception):
    """A record, signature or payload that does not verify; the message says why."""


# ------------------------------------------------------------------------------------------ canonical JSON

def canonical(value: Any) -> bytes:
    """RFC 8785: keys sorted by UTF-16 code units, no whitespace, strings as JSON escapes them minimally,
    numbers in their shortest ECMAScript form. Records hold strings and integers only; other floats are refused
    rather than risk a form another implementation would not reproduce."""
    return _encode(value).encode("utf-8")


def _encode(value: Any) -> str:
    if isinstance(value, Mapping):
        items = sorted(value.items(), key=lambda kv: kv[0].encode("utf-16-be"))
        return "{" + ",".join(f"{_string(k)}:{_encode(v)}" for k, v in items) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_encode(v) for v in value) + "]"
    if isinstance(value, str):
        return _string(value)
    if value is True or value is False or value is None:
        return json.dumps(value)
    if isinstance(value, int):
        if abs(value) > 2 ** 53:
            raise ValueError("integer beyond IEEE-754 double precision")
        return str(value)
    if isinstance(value, float) and math.isfinite(value) and value.is_integer() and abs(value) <= 2 ** 53:
        return str(int(value))
    raise ValueError(f"not canonicalisable: {value!r}")


def _string(text: str) -> str:
    if not isinstance(text, str):
        raise ValueError("object keys must be strings")
    return json.dumps(text, ensure_ascii=False)


# ------------------------------------------------------------------------------------------ keys

def private_key_from_hex(seed_hex: str) -> Ed25519PrivateKey:
    """The key from its 32-byte seed in hex (EXAM_CERT_KEY, or the instance folder's cert_key)."""
    return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(seed_hex.strip()))


def public_bytes(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """The first 16 hex digits of SHA-256 over the raw public key: short, stable, printed on certificates."""
    return hashlib.sha256(public_bytes(key)).hexdigest()[:16]


def public_key_from_text(text: str) -> Ed25519PublicKey:
    """A public key as published: base64url or 64 hex digits of the raw 32 bytes."""
    text = text.strip()
    raw = bytes.fromhex(text) if len(text) == 64 and all(c in "0123456789abcdefABCDEF" for c in text) \
        else b64decode(text)
    if len(raw) != 32:
        raise SignatureError("a public key has 32 bytes")
    return Ed25519PublicKey.from_public_bytes(raw)


def b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64decode(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError):
        raise SignatureError("not base64url") from None


# ------------------------------------------------------------------------------------------ sign / verify

@dataclass(frozen=True)
class SignedRecord:
    record: dict
    key_id: str
    signature: str        # base64url

    def canonical_json(self) -> str:
        return canonical(self.record).decode("utf-8")

    def document(self) -> dict:
        """The signed certificate as a JSON file (what the public page offers for download)."""
        return {"record": self.record, "key_id": self.key_id, "signature": self.signature, "alg": "Ed25519",
                "canonicalization": "RFC8785"}

    def fragment(self) -> str:
        return f"{b64encode(canonical(self.record))}.{self.key_id}.{self.signature}"


def sign(record: dict, key: Ed25519PrivateKey) -> SignedRecord:
    return SignedRecord(record, key_id(key), b64encode(key.sign(canonical(record))))


def verify(signed: SignedRecord, public_keys: Mapping[str, Ed25519PublicKey]) -> dict:
    """The record when its signature holds under the named key, else SignatureError."""
    public = public_keys.get(signed.key_id)
    if public is None:
        raise SignatureError(f"unknown key id {signed.key_id}")
    try:
        public.verify(b64decode(signed.signature), canonical(signed.record))
    except InvalidSignature:
        raise SignatureError("signature does not match the record") from None
    return signed.record


def qr_payload(base_url: str, public_id: str, signed: SignedRecord) -> str:
    return f"{base_url.rstrip('/')}/v/{public_id}#{signed.fragment()}"


def parse_payload(payload: str) -> SignedRecord:
    """The signed record in a QR payload (a URL with the fragment, or the fragment alone)."""
    fragment = payload.strip().rsplit("#", 1)[-1]
    parts = fragment.split(".")
    if len(parts) != 3:
        raise SignatureError("a payload has three parts: record.key_id.signature")
    try:
        record = json.loads(b64decode(parts[0]).decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise SignatureError("the record is not JSON") from None
    if not isinstance(record, dict):
        raise SignatureError("the record is not a JSON object")
    return SignedRecord(record, parts[1], parts[2])


def parse_document(data: Mapping) -> SignedRecord:
    """The signed record of a certificate JSON file (see :meth:`SignedRecord.document`)."""
    try:
        return SignedRecord(dict(data["record"]), str(data["key_id"]), str(data["signature"]))
    except (KeyError, TypeError, ValueError):
        raise SignatureError("a certificate file holds record, key_id and signature") from None


def id_digest(number: str, id_number: str) -> str:
    """SHA-256 of the ID number salted with the certificate number: the record proves whose certificate it is
    to someone holding the ID card, without printing the number in the QR code."""
    return hashlib.sha256(f"{number}|{id_number.upper()}".encode()).hexdigest()


def mask_id(id_number: str) -> str:
    """The first 4 and last 4 characters of an ID number, as the public page shows it."""
    if len(id_number) <= 8:
        return "*" * len(id_number)
    return id_number[:4] + "*" * (len(id_number) - 8) + id_number[-4:]
