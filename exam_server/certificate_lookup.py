"""The public certificate lookup: by certificate number + name, or by name + ID number, and its limits against
enumeration.

Limits are counted per address, per queried target (a number or an ID number: guessing names against one
number, or numbers against one person) and, more strictly, for misses per address, since enumeration mostly
misses. A whole test centre can sit behind one NAT address, so the per-address allowance is generous and the
target and miss limits do the real work. Counters are fixed windows kept in Redis when the platform has one
(several processes share them), else in the process.
"""
from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Optional, Protocol

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from .certificate_signing import mask_id
from .models import LEVEL_NAMES_ZH, Certificate


# ------------------------------------------------------------------------------------------ limits

@dataclass(frozen=True)
class Limit:
    name: str
    allowed: int
    window_s: int


@dataclass(frozen=True)
class LookupLimits:
    per_address: Limit
    per_target: Limit
    misses_per_address: Limit


def limits_from_env() -> LookupLimits:
    """EXAM_CERT_LOOKUP_PER_ADDRESS (per minute, default 60), EXAM_CERT_LOOKUP_PER_TARGET (per hour, default 20),
    EXAM_CERT_LOOKUP_MISSES (per address and hour, default 30)."""
    env = os.environ.get
    return LookupLimits(Limit("address", int(env("EXAM_CERT_LOOKUP_PER_ADDRESS", "60")), 60),
                        Limit("target", int(env("EXAM_CERT_LOOKUP_PER_TARGET", "20")), 3600),
                        Limit("miss", int(env("EXAM_CERT_LOOKUP_MISSES", "30")), 3600))


class CounterStore(Protocol):
    def count(self, key: str, window_s: int, add: int) -> int: ...

    def count_many(self, counts: list[tuple[str, int, int]]) -> list[int]: ...


class MemoryCounters:
    """Fixed-window counters in this process (tests, a single server)."""

    def __init__(self) -> None:
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()

    def count(self, key: str, window_s: int, add: int) -> int:
        with self._lock:
            if len(self._counts) > 200_000:     # old windows pile up: start afresh rather than grow forever
                self._counts.clear()
            self._counts[key] = self._counts.get(key, 0) + add
            return self._counts[key]

    def count_many(self, counts: list[tuple[str, int, int]]) -> list[int]:
        return [self.count(key, window_s, add) for key, window_s, add in counts]


class RedisCounters:
    """Fixed-window counters shared by every server process of one database (``namespace``)."""

    def __init__(self, url: str, namespace: str) -> None:
        import redis

        self._redis = redis.Redis.from_url(url)
        self._prefix = f"certlookup:{hashlib.sha256(namespace.encode()).hexdigest()[:12]}:"

    def count(self, key: str, window_s: int, add: int) -> int:
        return self.count_many([(key, window_s, add)])[0]

    def count_many(self, counts: list[tuple[str, int, int]]) -> list[int]:
        """All in one round trip (a lookup checks three counters)."""
        pipe = self._redis.pipeline(transaction=False)
        for key, window_s, add in counts:
            pipe.incrby(self._prefix + key, add)
            pipe.expire(self._prefix + key, window_s + 5)
        return [int(n) for n in pipe.execute()[::2]]


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after_s: int = 0


class LookupLimiter:
    def __init__(self, limits: LookupLimits, store: CounterStore) -> None:
        self.limits, self.store = limits, store

    def _key(self, limit: Limit, subject: str, now: datetime) -> tuple[str, int]:
        epoch = int(now.timestamp())
        window = epoch // limit.window_s
        retry = (window + 1) * limit.window_s - epoch
        return f"{limit.name}:{subject}:{window}", retry

    def _over(self, limit: Limit, subject: str, now: datetime, add: int) -> Optional[int]:
        """Count ``add`` more; the seconds to wait when that exceeds the limit (add 0: when it is used up)."""
        key, retry = self._key(limit, subject, now)
        return retry if self.store.count(key, limit.window_s, add) > limit.allowed - (add == 0) else None

    def admit(self, address: str, target: str, now: datetime) -> Verdict:
        """Count this lookup; refused when the address's misses are used up, or the address or the target goes
        over its limit. The three counters are read and counted together (one round trip to Redis), so a
        refused lookup still counts against its address and target."""
        checks = ((self.limits.misses_per_address, address, 0), (self.limits.per_address, address, 1),
                  (self.limits.per_target, _digest(target), 1))
        keys = [self._key(limit, subject, now) for limit, subject, _ in checks]
        counts = self.store.count_many([(key, limit.window_s, add) for (key, _), (limit, _, add) in zip(keys, checks)])
        for (limit, _, add), (_, retry), count in zip(checks, keys, counts):
            if count > limit.allowed - (add == 0):
                return Verdict(False, retry)
        return Verdict(True)

    def missed(self, address: str, now: datetime) -> None:
        self._over(self.limits.misses_per_address, address, now, 1)


def _digest(target: str) -> str:
    """Targets are ID numbers: counted under a digest, never kept in the clear."""
    return hashlib.sha256(target.upper().encode()).hexdigest()[:32]


# ------------------------------------------------------------------------------------------ queries

# Only what the public sees.
PUBLIC_COLUMNS = (Certificate.number, Certificate.holder_name, Certificate.id_number, Certificate.occupation,
                  Certificate.level, Certificate.issuer, Certificate.issued_on, Certificate.legacy,
                  Certificate.signature, Certificate.key_id, Certificate.public_id, Certificate.revoked_at,
                  Certificate.revoked_reason)


# Built once, run through Database.public_read (autocommit, no session, no ORM): the hot path of the lookup.
_BY_NUMBER = select(*PUBLIC_COLUMNS).where(Certificate.number == bindparam("number"))
_BY_ID_NUMBER = (select(*PUBLIC_COLUMNS)
                 .where(Certificate.id_number == bindparam("id_number"), Certificate.holder_name == bindparam("name"))
                 .order_by(Certificate.issued_on.desc(), Certificate.id.desc()).limit(50))


def by_number(database, number: str, name: str) -> list:
    """``database``: the app's db.Database."""
    rows = database.public_read(_BY_NUMBER, {"number": number.strip().upper()})
    return [row for row in rows if row.holder_name == name.strip()]


def by_id_number(database, name: str, id_number: str) -> list:
    return database.public_read(_BY_ID_NUMBER, {"id_number": id_number.strip().upper(), "name": name.strip()})


def by_public_id(db: Session, public_id: str) -> Optional[Certificate]:
    if len(public_id) != 32:
        return None
    return db.execute(select(Certificate).where(Certificate.public_id == public_id)).scalar_one_or_none()


def public_view(cert) -> dict:
    """What anyone may see of a certificate (a Certificate or a row of PUBLIC_COLUMNS): the ID masked, the
    revocation with its reason."""
    return {"number": cert.number, "name": cert.holder_name, "id_number": mask_id(cert.id_number),
            "occupation": cert.occupation, "level": cert.level, "level_name": LEVEL_NAMES_ZH.get(cert.level, ""),
            "issuer": cert.issuer, "issued_on": cert.issued_on, "legacy": cert.legacy,
            "signed": cert.signature is not None, "key_id": cert.key_id, "public_id": cert.public_id,
            "revoked": cert.revoked_at is not None,
            "revoked_at": cert.revoked_at.isoformat() if cert.revoked_at else None,
            "revoked_reason": cert.revoked_reason}
