"""Papers as delivery reads them. Until per-candidate assembly exists, a session has one paper, sealed
(encrypted) when it is assigned and readable only once the session has started; `paper_for` is the one place
that will change when per-candidate papers arrive.

The candidate's view never carries keys. Item order and option order are shuffled per attempt, from a seed
derived from the attempt, so a reload shows the same order; answers are stored against canonical option ids.
"""
from __future__ import annotations

import hashlib
import json
import random
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import audit, sealing
from ..errors import UserError
from .assembled import paper_of
from ..models import ExamSession, SealedPaper

DEMO_PAPER = Path(__file__).with_name("demo_cnc_turning_4.json")
CHOICE_TYPES = ("single", "multiple")


def demo_paper() -> dict:
    return json.loads(DEMO_PAPER.read_text(encoding="utf-8"))


def _context(session: ExamSession) -> bytes:
    return f"exam_session:{session.id}".encode()


def seal_for_session(db: Session, session: ExamSession, paper: dict, paper_key: bytes, now: datetime) -> SealedPaper:
    """Assign `paper` to the session, encrypted until the session starts."""
    plaintext = json.dumps(paper, ensure_ascii=False, sort_keys=True).encode()
    blob = sealing.seal(plaintext, paper_key, _context(session))
    sealed = SealedPaper(exam_session_id=session.id, nonce=blob.nonce, ciphertext=blob.ciphertext,
                         key_nonce=blob.key_nonce, wrapped_key=blob.wrapped_key, sha256=blob.sha256, sealed_at=now)
    db.add(sealed)
    audit.record(db, "paper_sealed", actor_name="examctl", object_type="exam_session", object_id=session.id, now=now,
                 data={"paper": paper["id"], "sha256": blob.sha256})
    return sealed


def release_key(db: Session, session: ExamSession, paper_key: bytes, actor, now: datetime) -> None:
    """At the start of the session: unwrap the paper's data key so that delivery can read it."""
    sealed = db.execute(select(SealedPaper).where(SealedPaper.exam_session_id == session.id)).scalar_one_or_none()
    if sealed is None:
        return
    session.paper_data_key = sealing.release_key(sealed.key_nonce, sealed.wrapped_key, paper_key, _context(session))
    audit.record(db, "paper_key_released", actor=actor, object_type="exam_session", object_id=session.id, now=now,
                 data={"sha256": sealed.sha256})


def paper_for(db: Session, attempt) -> dict:
    """The full paper (with keys) of an attempt — the candidate's own assembled paper when the session has them,
    else the session's — only after its session's key was released."""
    own = paper_of(db, attempt)
    if own is not None:
        return own
    session = attempt.roster_entry.exam_session
    sealed = db.execute(select(SealedPaper).where(SealedPaper.exam_session_id == session.id)).scalar_one_or_none()
    if sealed is None or session.paper_data_key is None:
        raise UserError("delivery.no_paper", 409)
    plaintext = sealing.open_sealed(sealed.nonce, sealed.ciphertext, session.paper_data_key, _context(session))
    if hashlib.sha256(plaintext).hexdigest() != sealed.sha256:
        raise UserError("delivery.no_paper", 409)
    return json.loads(plaintext)


def seed_of(attempt, paper: dict) -> int:
    return int.from_bytes(hashlib.sha256(f"{paper['id']}:{attempt.id}".encode()).digest()[:8], "big")


def candidate_view(paper: dict, seed: int) -> dict:
    """What the candidate's browser receives: no keys, items and options in this attempt's order."""
    rng = random.Random(seed)
    items = []
    for item in paper["items"]:
        shown = {k: item[k] for k in ("id", "type", "points", "stem", "unit") if k in item}
        if item["type"] in CHOICE_TYPES:
            options = list(item["options"])
            rng.shuffle(options)
            shown["options"] = options
        items.append(shown)
    rng.shuffle(items)
    return {"id": paper["id"], "title": paper["title"], "items": items}
