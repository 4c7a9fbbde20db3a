"""Admission tickets: a PDF page per seat whose QR code carries the ticket number signed with the server's key; a
forged or altered QR code is refused (and audited) at the door; examiners of the session confirm identities;
candidates download only their own ticket."""
from __future__ import annotations

import hashlib
import hmac
import io
import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
import segno
from sqlalchemy import select

from exam_server import scheduling, tickets
from exam_server.accounts import find_user
from exam_server.errors import UserError
from exam_server.fonts import cjk_font
from exam_server.models import AuditEvent, ExamPart, ExamSession, MachineKind, RosterEntry, TicketCheck, utcnow
from tests.server.test_scheduling import START, make_plan, org, practical_session, qualified_team, register, room

SECRET = "test-secret"      # the app fixture's secret key


def expected_payload(entry: RosterEntry) -> str:
    """The QR payload as the tickets module documents it, computed independently."""
    key = hmac.new(SECRET.encode(), b"admission-ticket-v1", hashlib.sha256).digest()
    message = f"{entry.ticket_number}|{entry.exam_session_id}|{entry.candidate_id}|{entry.seat}".encode()
    return f"EXTKT1:{entry.ticket_number}:{hmac.new(key, message, hashlib.sha256).hexdigest()[:20].upper()}"


def image_streams(pdf: bytes) -> list[bytes]:
    """The raw streams of the PDF's bilevel images (fpdf2 stores a QR code's PNG as CCITT G4)."""
    return re.findall(rb"/Filter /CCITTFaxDecode.*?>>\s*stream\n(.*?)\nendstream", pdf, re.S)


def qr_stream(payload: str) -> bytes:
    """The image stream fpdf2 writes for a QR code of ``payload`` (same encoder, so equal bytes = same code)."""
    from fpdf import FPDF

    png = io.BytesIO()
    segno.make_qr(payload, error="m").save(png, kind="png", scale=4, border=2)
    pdf = FPDF()
    pdf.add_page()
    pdf.image(png, x=10, y=10, w=38, h=38)
    (stream,) = image_streams(bytes(pdf.output()))
    return stream


@pytest.fixture
def scheduled(database):
    """A practical session at JS-NJ-01 with three candidates and a rotated team (chief from JS-NJ-02)."""
    with database.transaction() as db:
        session = practical_session(db)
        scheduling.assign_staff(db, session, qualified_team(db), find_user(db, "nj01_manager"), utcnow())
        return session.id


def _entries(database, session_id) -> list[SimpleNamespace]:
    """The session's seats as plain values (the database session closes)."""
    with database.session(write=False) as db:
        return [SimpleNamespace(id=e.id, ticket_number=e.ticket_number, exam_session_id=e.exam_session_id,
                                candidate_id=e.candidate_id, seat=e.seat, name=e.candidate.display_name)
                for e in db.get(ExamSession, session_id).roster]


@pytest.mark.skipif(cjk_font() is None, reason="no CJK font on this machine")
def test_the_session_pdf_has_a_page_per_seat_and_each_qr_carries_the_signed_ticket(database, new_browser,
                                                                                     scheduled):
    manager = new_browser()
    manager.login("nj01_manager")
    response = manager.get(f"/scheduling/sessions/{scheduled}/tickets.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    pdf = response.data
    assert pdf.startswith(b"%PDF") and len(re.findall(rb"/Type /Page\b(?!s)", pdf)) == 3
    streams = image_streams(pdf)
    entries = _entries(database, scheduled)
    for entry in entries:
        assert qr_stream(expected_payload(entry)) in streams
    forged = expected_payload(entries[0])[:-1] + ("0" if expected_payload(entries[0])[-1] != "0" else "1")
    assert qr_stream(forged) not in streams


def _door(database, session_id, text, username="examiner_sz01"):
    with database.session(write=True) as db:
        try:
            return tickets.identify(db, db.get(ExamSession, session_id), text, tickets.ticket_key(SECRET),
                                    find_user(db, username), utcnow())
        finally:
            db.commit()     # as the view does: a refusal stays in the audit log


def test_a_forged_or_altered_qr_code_is_refused_and_audited(database, scheduled):
    first, second = _entries(database, scheduled)[:2]
    entry, scanned = _door(database, scheduled, expected_payload(first))
    assert (entry.id, scanned) == (first.id, True)
    number, mac = first.ticket_number, expected_payload(first).split(":")[2]
    other_mac = expected_payload(second).split(":")[2]
    made_up = f"EXTKT1:{number}:{'0' * 20}"
    for forged in (made_up, f"EXTKT1:{number}:{other_mac}", f"EXTKT1:{second.ticket_number}:{mac}",
                   f"EXTKT1:{number}"):
        with pytest.raises(UserError) as refused:
            _door(database, scheduled, forged)
        assert refused.value.key == ("tickets.forged" if forged.count(":") == 2 else "tickets.unknown")
    with database.session(write=False) as db:
        refusals = db.execute(select(AuditEvent).where(AuditEvent.action == "ticket_refused")).scalars().all()
        assert len(refusals) == 4 and made_up in refusals[0].data


def test_a_typed_number_is_found_but_marked_unscanned_and_other_sessions_are_unknown(database, scheduled):
    first = _entries(database, scheduled)[0]
    entry, scanned = _door(database, scheduled, f"  {first.ticket_number} ")
    assert (entry.id, scanned) == (first.id, False)
    with database.session(write=False) as db:
        demo_ticket = db.execute(select(RosterEntry.ticket_number).where(RosterEntry.exam_session_id != scheduled)
                                 ).scalars().first()
    with pytest.raises(UserError) as refused:
        _door(database, scheduled, demo_ticket)
    assert refused.value.key == "tickets.unknown"


def test_examiners_of_the_session_check_identities_at_the_door(database, new_browser, scheduled):
    first = _entries(database, scheduled)[0]
    path = f"/scheduling/sessions/{scheduled}/check-in"
    supervisor = new_browser()
    supervisor.login("supervisor_nj")
    assert supervisor.get(path).status_code == 403
    examiner = new_browser()
    examiner.login("examiner_sz01")                 # from Suzhou: rotated in by the assignment, not by scope
    assert examiner.get(path).status_code == 200
    page = examiner.post(path, {"ticket": expected_payload(first)}).get_data(as_text=True)
    assert first.name in page and f'id="door-seat">{first.seat}<' in page
    assert "data:image/png;base64," in page and "二维码签名已验证" in page
    forged = examiner.post(path, {"ticket": expected_payload(first)[:-2] + "ZZ"})
    assert forged.status_code == 422 and "伪造" in forged.get_data(as_text=True)
    assert examiner.post(path, {"ticket": expected_payload(first), "confirm": "1"}).status_code == 302
    with database.session(write=False) as db:
        check = db.execute(select(TicketCheck)).scalar_one()
        assert (check.roster_entry_id, check.scanned, check.examiner.username) == (first.id, True, "examiner_sz01")
        assert db.execute(select(AuditEvent).where(AuditEvent.action == "identity_confirmed")).scalar_one()


def test_an_examiner_neither_on_the_team_nor_over_the_station_is_refused(database, new_browser):
    with database.transaction() as db:
        session_id = practical_session(db).id          # no team assigned
    stranger = new_browser()
    stranger.login("examiner_sz01")
    assert stranger.get(f"/scheduling/sessions/{session_id}/check-in").status_code == 403
    assert stranger.get(f"/scheduling/sessions/{session_id}/tickets.pdf").status_code == 403
    local = new_browser()
    local.login("examiner_nj01")                       # the station's own examiner may help at the door
    assert local.get(f"/scheduling/sessions/{session_id}/check-in").status_code == 200


@pytest.mark.skipif(cjk_font() is None, reason="no CJK font on this machine")
def test_a_candidate_downloads_their_own_tickets_only(database, new_browser):
    with database.transaction() as db:
        ks001 = find_user(db, "ks001")                 # a registration with ks001's ID number reuses the account
        plan, station, manager = make_plan(db), org(db, "JS-NJ-01"), find_user(db, "nj01_manager")
        register(db, plan, 1, number=ks001.id_number)
        theory = scheduling.schedule_session(db, plan, station, ExamPart.theory, room(db, MachineKind.computer),
                                             START, 7200, manager, utcnow())
        practical = scheduling.schedule_session(db, plan, station, ExamPart.practical, room(db, MachineKind.lathe),
                                                START + timedelta(hours=4), 7200, manager, utcnow())
        assert theory.roster[0].candidate_id == practical.roster[0].candidate_id == ks001.id
        entry_id = theory.roster[0].id
        payloads = [expected_payload(theory.roster[0]), expected_payload(practical.roster[0])]
    own, other = new_browser(), new_browser()
    own.login("ks001")
    other.login("ks002")
    response = own.get("/scheduling/my-tickets.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert len(re.findall(rb"/Type /Page\b(?!s)", response.data)) == 2
    assert [qr_stream(p) in image_streams(response.data) for p in payloads] == [True, True]
    assert other.get("/scheduling/my-tickets.pdf").status_code == 404       # ks002 has no scheduled session
    assert other.get(f"/scheduling/roster/{entry_id}/ticket.pdf").status_code == 403   # not staff
