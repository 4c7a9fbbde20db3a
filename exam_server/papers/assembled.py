"""Per-candidate papers (one per roster entry), sealed the way a session's paper is.

All papers of a session are encrypted under the session's one data key, the key that `papers.seal_for_session`
wrapped under the platform's paper key: starting the session releases it (`papers.release_key`), and from then
on `paper_of` opens a candidate's own paper. A session without a sealed paper gets a sealed index of its
papers, so that it has a data key to release. Each paper binds its roster entry as associated data, so a paper
cannot be moved to another seat in the database unnoticed.

A paper holds the items with their options and keys, in the format `papers.candidate_view` reads (which
never passes keys on): ids q001… in section order, `ref` = the bank item version ("L00012@1").
"""
from __future__ import annotations

import hashlib
import json
import os
from datetime import datetime
from typing import Optional

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import select
from sqlalchemy.orm import Session

from assessment.bank import CHOICE_TYPES, Item, PaperSpec

from .. import sealing
from ..errors import UserError
from ..models import AssembledPaper, Assembly, ExamSession, SealedPaper

DELIVERY_TYPES = {"single": "single", "multiple": "multiple", "true_false": "truefalse", "numeric": "numeric"}
LETTERS = "ABCDEFGH"


def _session_context(session: ExamSession) -> bytes:
    return f"exam_session:{session.id}".encode()     # the associated data papers.seal_for_session binds


def _entry_context(roster_entry_id: int) -> bytes:
    return f"roster_entry:{roster_entry_id}".encode()


def delivery_item(number: int, item: Item, spec: PaperSpec) -> dict:
    """One item as delivery and grading read it (keys included)."""
    entry = {"id": f"q{number:03d}", "ref": item.ref, "type": DELIVERY_TYPES[item.type],
             "points": spec.points_of(item.type), "stem": item.stem}
    if item.type in CHOICE_TYPES:
        entry["options"] = [{"id": LETTERS[j], "text": text} for j, text in enumerate(item.options)]
        entry["key"] = item.key if item.type == "single" else list(item.key)
        if item.type == "multiple":
            section = next(s for s in spec.sections if s.type == "multiple")
            entry["partial_credit"] = section.partial_credit
    elif item.type == "true_false":
        entry["key"] = item.key == "T"
    else:
        entry["key"], entry["tolerance"] = float(item.key), item.tolerance
    if item.media:
        entry["media"] = list(item.media)
    return entry


def delivery_paper(paper_id: str, title: str, items: list[Item], spec: PaperSpec) -> dict:
    return {"id": paper_id, "title": title,
            "items": [delivery_item(n, item, spec) for n, item in enumerate(items, start=1)]}


def session_data_key(db: Session, session: ExamSession, paper_key: bytes, index: dict, now: datetime) -> bytes:
    """The session's data key (never stored in clear before the session starts). A session without a sealed
    paper gets `index` sealed as its paper, which creates the key."""
    sealed = db.execute(select(SealedPaper).where(SealedPaper.exam_session_id == session.id)).scalar_one_or_none()
    if sealed is None:
        plaintext = json.dumps(index, ensure_ascii=False, sort_keys=True).encode()
        blob = sealing.seal(plaintext, paper_key, _session_context(session))
        sealed = SealedPaper(exam_session_id=session.id, nonce=blob.nonce, ciphertext=blob.ciphertext,
                             key_nonce=blob.key_nonce, wrapped_key=blob.wrapped_key, sha256=blob.sha256,
                             sealed_at=now)
        db.add(sealed)
    return sealing.release_key(sealed.key_nonce, sealed.wrapped_key, paper_key, _session_context(session))


def seal_paper(data_key: bytes, paper: dict, roster_entry_id: int) -> tuple[bytes, bytes, str]:
    """(nonce, ciphertext, sha256 of the plaintext) of one candidate's paper."""
    plaintext = json.dumps(paper, ensure_ascii=False, sort_keys=True).encode()
    nonce = os.urandom(sealing.NONCE_BYTES)
    ciphertext = AESGCM(data_key).encrypt(nonce, plaintext, _entry_context(roster_entry_id))
    return nonce, ciphertext, hashlib.sha256(plaintext).hexdigest()


def open_paper(row: AssembledPaper, data_key: bytes) -> dict:
    plaintext = sealing.open_sealed(row.nonce, row.ciphertext, data_key, _entry_context(row.roster_entry_id))
    if hashlib.sha256(plaintext).hexdigest() != row.sha256:
        raise UserError("delivery.no_paper", 409)
    return json.loads(plaintext)


def paper_row(db: Session, roster_entry_id: int) -> Optional[AssembledPaper]:
    return db.execute(select(AssembledPaper).where(AssembledPaper.roster_entry_id == roster_entry_id)
                      ).scalar_one_or_none()


def paper_of(db: Session, attempt) -> Optional[dict]:
    """The attempt's own paper (with keys) once its session started; None when the session has no per-candidate
    papers (delivery then serves the session's paper). A candidate added to the roster after assembly has none:
    refused rather than served the session's sealed index."""
    row = paper_row(db, attempt.roster_entry_id)
    if row is None:
        session_id = attempt.roster_entry.exam_session_id
        if db.execute(select(Assembly.id).where(Assembly.exam_session_id == session_id)).first() is not None:
            raise UserError("delivery.no_paper", 409)
        return None
    data_key = attempt.roster_entry.exam_session.paper_data_key
    if data_key is None:
        raise UserError("delivery.no_paper", 409)
    return open_paper(row, data_key)
