"""Release codes: the session key of a package, for a node that cannot reach the hub at the start, is unlocked
by a code the hub shows to the supervisor on the phone. 25 Crockford base32 characters (125 random bits, read
in five groups of five) are too many to guess even offline, with the package and the node's disk in hand, and
the alphabet has no letters that sound or look alike (no I, L, O, U; typed I/L read as 1 and O as 0)."""
from __future__ import annotations

import secrets

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH, GROUP = 25, 5
_READ_AS = {"I": "1", "L": "1", "O": "0"}


def new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return "-".join(raw[i:i + GROUP] for i in range(0, LENGTH, GROUP))


def normalise(text: str) -> str:
    """The code as typed (any case, spaces or dashes, I/L/O for 1/0) → its canonical grouped form;
    ValueError when it cannot be a code at all."""
    raw = "".join(_READ_AS.get(c, c) for c in text.upper() if c not in " -\t")
    if len(raw) != LENGTH or any(c not in ALPHABET for c in raw):
        raise ValueError("not a release code")
    return "-".join(raw[i:i + GROUP] for i in range(0, LENGTH, GROUP))


def wrapping_key(code: str, context: bytes) -> bytes:
    """The AES key that wraps a package's session key, bound to the package by ``context``."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"exam-release-code|" + context) \
        .derive(normalise(code).encode("ascii"))
