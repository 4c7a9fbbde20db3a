"""argon2id at the OWASP ASVS minimum (t=2, m=19 MiB, p=1): about 40 ms a verify on these machines, so a
thousand candidates logging in at once do not stall a two-core server for minutes.

argon2 releases the GIL, so under gevent it runs on a small native thread pool: the loop keeps serving sockets
while a hash is computed, both cores work, and no more hashes run at once than there are cores (each holds its
19 MiB while it runs; ten at once would keep 190 MB of arenas). The room PIN is one secret checked by every candidate
of a session, so its successful checks are remembered (as a digest, in memory) and cost one hash per process.
"""
from __future__ import annotations

import hashlib
import sys

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1, hash_len=32, salt_len=16,
                         type=Type.ID)
# Verified against when the account does not exist, so that a wrong name costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not a password of anybody")

MIN_LENGTH, MAX_LENGTH = 8, 128


def hash_password(password: str) -> str:
    return _off_loop(_hasher.hash, password)


def verify_password(password_hash: str | None, password: str) -> bool:
    return _off_loop(_verify, password_hash, password)


def verify_shared_secret(secret_hash: str, secret: str) -> bool:
    """A secret many people type (the room PIN): a success is remembered, a failure always costs a hash."""
    digest = hashlib.sha256(secret.encode()).digest()
    if (secret_hash, digest) in _known_good:
        return True
    if not verify_password(secret_hash, secret):
        return False
    _remember(secret_hash, digest)
    return True


_known_good: dict[tuple[str, bytes], None] = {}


def _remember(secret_hash: str, digest: bytes, limit: int = 4096) -> None:
    if len(_known_good) >= limit:
        _known_good.pop(next(iter(_known_good)))
    _known_good[(secret_hash, digest)] = None


def _verify(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


HASH_THREADS = 2    # as many hashes at once as there are cores: each holds 19 MiB while it runs
_pool = None


def _off_loop(fn, *args):
    global _pool
    monkey = sys.modules.get("gevent.monkey")
    if monkey is None or not monkey.is_module_patched("threading"):
        return fn(*args)
    if _pool is None:
        from gevent.threadpool import ThreadPool

        _pool = ThreadPool(HASH_THREADS)
    return _pool.apply(fn, args)


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def password_problem(password: str) -> str | None:
    """The message key of what is wrong with a new password, or None."""
    if len(password) < MIN_LENGTH:
        return "password.too_short"
    if len(password) > MAX_LENGTH:
        return "password.too_long"
    if len(set(password)) < 4:
        return "password.too_simple"
    return None
