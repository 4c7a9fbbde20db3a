"""Writing and verifying the hash-chained audit log.

Every state change and every login attempt appends one row inside the same transaction as the change, so
the log and the data commit or roll back together. Appends are serialised on the chain head row.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import AuditEvent, AuditHead, User, utcnow

GENESIS_HASH = "0" * 64


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _row_hash(prev_hash: str, fields: dict) -> str:
    return hashlib.sha256((prev_hash + canonical_json(fields)).encode()).hexdigest()


def _fields(event: AuditEvent) -> dict:
    return {
        "seq": event.seq, "ts_utc": event.ts_utc.isoformat(timespec="microseconds"),
        "actor_id": event.actor_id, "actor_name": event.actor_name, "action": event.action,
        "object_type": event.object_type, "object_id": event.object_id, "ip": event.ip, "data": event.data,
    }


def record(session: Session, action: str, *, actor: Optional[User] = None, actor_name: str = "",
           object_type: str = "", object_id: Any = "", data: Optional[dict] = None, ip: str = "",
           now: Optional[datetime] = None) -> AuditEvent:
    """Append one event to the chain in the caller's transaction."""
    head = session.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update()).scalar_one()
    event = AuditEvent(
        seq=head.seq + 1, ts_utc=(now or utcnow()).astimezone(timezone.utc),   # one form, whatever zone came in
        actor_id=actor.id if actor else None, actor_name=actor.username if actor else actor_name,
        action=action, object_type=object_type, object_id=str(object_id), ip=ip,
        data=canonical_json(data or {}), prev_hash=head.hash,
    )
    event.hash = _row_hash(event.prev_hash, _fields(event))
    head.seq, head.hash = event.seq, event.hash
    session.add(event)
    return event


@dataclass
class ChainReport:
    checked: int
    first_broken_seq: Optional[int] = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.first_broken_seq is None


def verify(session: Session) -> ChainReport:
    """Walk the whole chain and name the first broken link, if any."""
    prev_hash, expected_seq, checked = GENESIS_HASH, 1, 0
    rows = session.execute(select(AuditEvent).order_by(AuditEvent.seq).execution_options(yield_per=1000))
    for event in rows.scalars():
        if event.seq != expected_seq:
            return ChainReport(checked, expected_seq, "missing row")
        if event.prev_hash != prev_hash:
            return ChainReport(checked, event.seq, "prev_hash does not match the previous row")
        if _row_hash(event.prev_hash, _fields(event)) != event.hash:
            return ChainReport(checked, event.seq, "row content does not match its hash")
        prev_hash, expected_seq, checked = event.hash, expected_seq + 1, checked + 1
    head = session.get(AuditHead, 1)
    if head is not None and (head.seq != checked or head.hash != prev_hash):
        return ChainReport(checked, checked + 1, "rows after the last one were removed (head is ahead)")
    return ChainReport(checked)
