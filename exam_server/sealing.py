"""Papers sealed at rest: AES-256-GCM under a data key per session, the data key wrapped (AES-GCM again)
under the platform's paper key, which lives in the instance folder or the environment, never in the
database. A database copy taken before a session starts therefore holds no readable paper; starting the
session releases (unwraps) the data key, and the release is audited."""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12


@dataclass(frozen=True)
class Sealed:
    nonce: bytes
    ciphertext: bytes
    key_nonce: bytes
    wrapped_key: bytes
    sha256: str          # of the plaintext, so a released paper can be checked against what was sealed


def seal(plaintext: bytes, paper_key: bytes, context: bytes) -> Sealed:
    """Encrypt under a fresh data key; `context` (e.g. the session id) is bound as associated data."""
    data_key = AESGCM.generate_key(bit_length=256)
    nonce, key_nonce = os.urandom(NONCE_BYTES), os.urandom(NONCE_BYTES)
    return Sealed(nonce, AESGCM(data_key).encrypt(nonce, plaintext, context), key_nonce,
                  AESGCM(paper_key).encrypt(key_nonce, data_key, context), hashlib.sha256(plaintext).hexdigest())


def release_key(key_nonce: bytes, wrapped_key: bytes, paper_key: bytes, context: bytes) -> bytes:
    return AESGCM(paper_key).decrypt(key_nonce, wrapped_key, context)


def open_sealed(nonce: bytes, ciphertext: bytes, data_key: bytes, context: bytes) -> bytes:
    return AESGCM(data_key).decrypt(nonce, ciphertext, context)
