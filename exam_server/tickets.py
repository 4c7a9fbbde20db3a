"""Admission tickets (准考证): the PDF (one page per roster entry, with photo, particulars and a QR code) and the
examiners' identity check at the door.

The QR code carries ``EXTKT1:<ticket number>:<mac>``, where mac is the first 20 hex digits (upper case, so that
the QR code stays in its compact alphanumeric mode) of HMAC-SHA256 over ``"<ticket>|<session id>|<candidate
id>|<seat>"`` under a key derived from the server's secret key. A ticket printed with a made-up or altered
number, or for another seat or person, fails the check; re-seating a candidate voids their old printout.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import io
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import audit
from .certificate_signing import mask_id
from .errors import UserError
from .fonts import cjk_font
from .models import LEVEL_NAMES_ZH, ExamPart, ExamSession, RosterEntry, TicketCheck, User
from .scheduling import BEIJING

PREFIX = "EXTKT1"
MAC_DIGITS = 20
PART_NAMES = {ExamPart.theory: "理论知识考试", ExamPart.practical: "操作技能考核"}


class TicketRefused(UserError):
    """A refused ticket at the door; the caller still commits (the refusal is audited)."""


def ticket_key(secret_key: str) -> bytes:
    """The tickets' own key, derived so that it is never the session-signing key itself."""
    return hmac.new(secret_key.encode(), b"admission-ticket-v1", hashlib.sha256).digest()


def _mac(entry: RosterEntry, key: bytes) -> str:
    message = f"{entry.ticket_number}|{entry.exam_session_id}|{entry.candidate_id}|{entry.seat}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:MAC_DIGITS].upper()


def qr_payload(entry: RosterEntry, key: bytes) -> str:
    return f"{PREFIX}:{entry.ticket_number}:{_mac(entry, key)}"


# ---- the identity check at the door -----------------------------------------------------------------------------

def identify(db: Session, session: ExamSession, text: str, key: bytes, examiner: User, now: datetime,
             ) -> tuple[RosterEntry, bool]:
    """The session's roster entry named by a scanned QR payload (its mac verified) or a typed ticket number.
    Returns (entry, scanned). Raises TicketRefused after auditing the refusal."""
    text = text.strip()[:100]
    scanned = text.upper().startswith(PREFIX + ":")
    number, mac = text, None
    if scanned:
        parts = text.split(":")
        number, mac = (parts[1], parts[2].upper()) if len(parts) == 3 else ("", "")
    entry = db.execute(select(RosterEntry).where(RosterEntry.ticket_number == number)).scalar_one_or_none() \
        if number else None
    problem = None
    if entry is None or entry.exam_session_id != session.id:
        problem = "tickets.unknown"
    elif scanned and not hmac.compare_digest(mac, _mac(entry, key)):
        problem = "tickets.forged"
    if problem:
        audit.record(db, "ticket_refused", actor=examiner, object_type="exam_session", object_id=session.id,
                     now=now, data={"input": text, "reason": problem})
        raise TicketRefused(problem, 422)
    return entry, scanned


def confirm_identity(db: Session, entry: RosterEntry, examiner: User, scanned: bool, now: datetime) -> TicketCheck:
    check = TicketCheck(roster_entry_id=entry.id, examiner_id=examiner.id, scanned=scanned, checked_at=now)
    db.add(check)
    db.flush()
    audit.record(db, "identity_confirmed", actor=examiner, object_type="roster_entry", object_id=entry.id, now=now,
                 data={"ticket": entry.ticket_number, "scanned": scanned})
    return check


def checks_of(db: Session, session: ExamSession) -> dict[int, TicketCheck]:
    """The latest identity check per roster entry of the session."""
    rows = db.execute(select(TicketCheck).join(RosterEntry, RosterEntry.id == TicketCheck.roster_entry_id)
                      .where(RosterEntry.exam_session_id == session.id).order_by(TicketCheck.id)).scalars()
    return {c.roster_entry_id: c for c in rows}


def photo_data_uri(user: User) -> str:
    """The registration photo inline (the pages allow data: images), or ''."""
    if not user.photo or user.photo_type not in ("image/jpeg", "image/png"):
        return ""
    return f"data:{user.photo_type};base64,{base64.b64encode(user.photo).decode()}"


# ---- the PDF ----------------------------------------------------------------------------------------------

def render(entries: list[RosterEntry], key: bytes, plan_names: dict[int, str]) -> bytes:
    """One A4 page per roster entry; ``plan_names`` maps session id → the plan's name (the exam's name else)."""
    font = cjk_font()
    if font is None:
        raise UserError("certificates.no_cjk_font", 503)
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(False)
    pdf.add_font("cjk", fname=font[0], collection_font_number=font[1])
    pdf.set_title("准考证")
    for entry in entries:
        pdf.add_page()
        _page(pdf, entry, qr_payload(entry, key), plan_names.get(entry.exam_session_id))
    return bytes(pdf.output())


def _qr_png(payload: str) -> bytes:
    import segno

    buffer = io.BytesIO()
    segno.make_qr(payload, error="m").save(buffer, kind="png", scale=4, border=2)
    return buffer.getvalue()


def _page(pdf, entry: RosterEntry, payload: str, plan_name) -> None:
    session, candidate = entry.exam_session, entry.candidate
    start = session.scheduled_start_at + BEIJING
    pdf.set_line_width(0.6)
    pdf.rect(15, 15, 180, 150)
    pdf.set_font("cjk", size=24)
    pdf.set_xy(15, 22)
    pdf.cell(180, 12, "职业技能等级认定 准考证", align="C")
    pdf.set_font("cjk", size=12)
    lines = [("准考证号", entry.ticket_number), ("姓名", candidate.display_name),
             ("证件号码", mask_id(candidate.id_number or "")),
             ("考试计划", plan_name or session.exam.name),
             ("职业(工种)/等级", f"{session.exam.job_type.name} {LEVEL_NAMES_ZH.get(session.exam.level, '')}"),
             ("科目", PART_NAMES[session.part]),
             ("时间", f"{start:%Y-%m-%d %H:%M}（{session.duration_s // 60} 分钟，北京时间）"),
             ("考点", session.organisation.name), ("考场", session.room), ("座位/工位号", entry.seat)]
    for row, (label, value) in enumerate(lines):
        pdf.set_xy(22, 42 + row * 10)
        pdf.cell(38, 8, f"{label}:")
        pdf.cell(100, 8, value)
    if candidate.photo and candidate.photo_type in ("image/jpeg", "image/png"):
        pdf.image(io.BytesIO(candidate.photo), x=152, y=42, w=33, h=44)
    else:
        pdf.rect(152, 42, 33, 44)
    pdf.image(io.BytesIO(_qr_png(payload)), x=150, y=100, w=38, h=38)
    pdf.set_font("cjk", size=9)
    pdf.set_xy(22, 145)
    pdf.multi_cell(166, 5, "考生须携带本准考证和有效身份证件，提前 30 分钟到达考场，"
                           "凭准考证号、证件号码和考场口令签到。")
