"""Session packages (试卷包): everything a station needs to run one session — roster and photos, per-candidate
papers, practical tasks and score sheets — as files encrypted under a fresh session key, in an envelope signed
by the hub. The session key travels inside the package too, wrapped under the session's release code, so the
package is unreadable until the hub releases that code at the start (online, or read out by phone).

The manifest carries the session, the station, a version and a validity window: a node refuses a package that
is not for it, expired, or older than one it already holds (TUF's rollback rule); ``not_before`` holds back
only the key release."""
from __future__ import annotations

import io
import os
import zipfile
from dataclasses import dataclass
from datetime import datetime
from typing import Mapping

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from . import release_codes
from .envelopes import FIXED_TIME, EnvelopeError, open_envelope, seal

KIND = "session-package"
PAYLOAD, WRAPPED_KEY = "payload.bin", "session-key.bin"
NONCE = 12


@dataclass(frozen=True)
class PackageInfo:
    session_ref: str      # the hub's stable name for the session
    station: str          # the station's organisation code
    version: int
    not_before: datetime  # the scheduled start: the key is not released earlier
    expires: datetime

    def header(self) -> dict:
        return {"session": self.session_ref, "station": self.station, "version": self.version,
                "not_before": self.not_before.isoformat(), "expires": self.expires.isoformat()}

    @classmethod
    def from_header(cls, header: Mapping) -> "PackageInfo":
        try:
            return cls(str(header["session"]), str(header["station"]), int(header["version"]),
                       datetime.fromisoformat(header["not_before"]), datetime.fromisoformat(header["expires"]))
        except (KeyError, TypeError, ValueError):
            raise EnvelopeError("transfer.malformed", "header") from None

    def context(self) -> bytes:
        return f"{self.session_ref}|{self.station}|{self.version}".encode()


def build(info: PackageInfo, files: Mapping[str, bytes], hub_key: Ed25519PrivateKey) -> tuple[bytes, str]:
    """The package and its release code (which the hub keeps, sealed, until the start)."""
    session_key, code = AESGCM.generate_key(bit_length=256), release_codes.new_code()
    context = info.context()
    payload_nonce, key_nonce = os.urandom(NONCE), os.urandom(NONCE)
    payload = payload_nonce + AESGCM(session_key).encrypt(payload_nonce, _zip(files), context)
    wrapped = key_nonce + AESGCM(release_codes.wrapping_key(code, context)).encrypt(key_nonce, session_key, context)
    return seal(KIND, info.header(), {PAYLOAD: payload, WRAPPED_KEY: wrapped}, hub_key), code


def check(data: bytes, hub_keys: Mapping[str, Ed25519PublicKey], station: str, highest_version: int,
          now: datetime) -> PackageInfo:
    """What a node checks when a package arrives (download or USB stick), before storing it."""
    info = PackageInfo.from_header(open_envelope(data, KIND, hub_keys).header)
    if info.station != station:
        raise EnvelopeError("transfer.other_station", info.station)
    if now >= info.expires:
        raise EnvelopeError("transfer.expired", info.expires.isoformat())
    if info.version < highest_version:
        raise EnvelopeError("transfer.rollback", f"{info.version} < {highest_version}")
    return info


def unlock(data: bytes, hub_keys: Mapping[str, Ed25519PublicKey], code: str) -> dict[str, bytes]:
    """The package's files, given the release code; a wrong code is `transfer.wrong_code`."""
    envelope = open_envelope(data, KIND, hub_keys)
    context = PackageInfo.from_header(envelope.header).context()
    wrapped, payload = envelope.members[WRAPPED_KEY], envelope.members[PAYLOAD]
    try:
        key = release_codes.wrapping_key(code, context)
        session_key = AESGCM(key).decrypt(wrapped[:NONCE], wrapped[NONCE:], context)
    except (ValueError, InvalidTag):
        raise EnvelopeError("transfer.wrong_code") from None
    return _unzip(AESGCM(session_key).decrypt(payload[:NONCE], payload[NONCE:], context))


def _zip(files: Mapping[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in sorted(files.items()):
            archive.writestr(zipfile.ZipInfo(name, FIXED_TIME), data, zipfile.ZIP_DEFLATED)
    return out.getvalue()


def _unzip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}
