"""A node's requests to the hub, signed with the node's Ed25519 key instead of a login: the hub knows the node by
its registered public key. The signature covers the method, the path with its query, the time and the body's
SHA-256; the hub accepts a time within MAX_SKEW of its own (a replay inside that window repeats a read or an
idempotent upload, which changes nothing)."""
from __future__ import annotations

import base64
import hashlib
from datetime import datetime, timedelta
from typing import Mapping

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ..certificate_signing import key_id
from .envelopes import EnvelopeError

KEY, TIME, SIGNATURE = "X-Node-Key", "X-Node-Time", "X-Node-Signature"
MAX_SKEW = timedelta(minutes=5)


def _message(method: str, path: str, when: str, body: bytes) -> bytes:
    return "\n".join((method.upper(), path, when, hashlib.sha256(body).hexdigest())).encode()


def sign(key: Ed25519PrivateKey, method: str, path: str, body: bytes, now: datetime) -> dict[str, str]:
    when = now.isoformat()
    signature = key.sign(_message(method, path, when, body))
    return {KEY: key_id(key.public_key()), TIME: when, SIGNATURE: base64.urlsafe_b64encode(signature).decode()}


def verify(headers: Mapping[str, str], method: str, path: str, body: bytes, now: datetime,
           keys: Mapping[str, Ed25519PublicKey]) -> str:
    """The key id of the node that signed the request; EnvelopeError when it did not."""
    public = keys.get(headers.get(KEY, ""))
    if public is None:
        raise EnvelopeError("transfer.unknown_signer", headers.get(KEY, ""))
    try:
        when = datetime.fromisoformat(headers.get(TIME, ""))
        public.verify(base64.urlsafe_b64decode(headers.get(SIGNATURE, "")), _message(method, path, headers[TIME], body))
    except (ValueError, InvalidSignature):
        raise EnvelopeError("transfer.bad_signature") from None
    if abs(when - now) > MAX_SKEW:
        raise EnvelopeError("transfer.clock_skew", when.isoformat())
    return headers[KEY]
