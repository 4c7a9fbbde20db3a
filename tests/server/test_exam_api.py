"""Exam delivery over HTTP and Socket.IO: check-in, attempts, saves, submission, examiner actions, scopes."""
from __future__ import annotations

import uuid

from sqlalchemy import select, update

from exam_server import create_app
from exam_server.models import AuditEvent, RosterEntry, UserSession, utcnow
from tests.server.conftest import Browser


def seat(database, session_id, number: int) -> RosterEntry:
    with database.session(write=False) as db:
        entry = db.execute(select(RosterEntry).where(RosterEntry.exam_session_id == session_id)
                           .order_by(RosterEntry.seat).offset(number - 1)).scalars().first()
        return entry.ticket_number, entry.candidate.id_number, entry.id


def open_and_start(examiner, session_id) -> str:
    pin = examiner.post_json(f"/api/sessions/{session_id}/check-in").json["pin"]
    assert examiner.post_json(f"/api/sessions/{session_id}/start").status_code == 200
    return pin


def checked_in(new_browser, database, session_id, number, pin):
    ticket, id_number, entry_id = seat(database, session_id, number)
    candidate = new_browser()
    response = candidate.post_json("/api/check-in", {"ticket_number": ticket, "id_number": id_number, "pin": pin})
    assert response.status_code == 200, response.json
    attempt = candidate.post_json(f"/api/roster/{entry_id}/attempt", {"client_id": f"browser-{number:04d}"}).json
    return candidate, attempt["attempt_id"]


def save_op(seq, item, value, client="browser-0001"):
    return {"op_id": uuid.uuid4().hex, "seq": seq, "item_id": item, "value": value, "client_id": client}


def test_check_in_needs_ticket_id_and_pin_and_slows_down_per_seat(new_browser, examiner, database, session_id):
    ticket, id_number, entry_id = seat(database, session_id, 1)
    stranger = new_browser()
    early = stranger.post_json("/api/check-in", {"ticket_number": ticket, "id_number": id_number, "pin": "000000"})
    assert early.status_code == 401 and early.json["error"]["code"] == "check_in.not_open"
    pin = open_and_start(examiner, session_id)
    for _ in range(4):                                                 # five failures in all are free
        wrong = stranger.post_json("/api/check-in", {"ticket_number": ticket, "id_number": id_number,
                                                     "pin": "not-it"})
        assert wrong.status_code == 401 and wrong.json["error"]["message"] == "准考证号、身份证号或考场口令不正确。"
    candidate = new_browser()
    slowed = candidate.post_json("/api/check-in", {"ticket_number": ticket, "id_number": id_number, "pin": pin})
    assert slowed.status_code == 429                                   # the seat waits now...
    assert examiner.post_json(f"/api/roster/{entry_id}/seat-delay/reset").json["cleared"] is True
    ok = candidate.post_json("/api/check-in", {"ticket_number": ticket, "id_number": id_number, "pin": pin})
    assert ok.status_code == 200 and ok.json["seat"] == "01"           # ...until the examiner clears it


def test_answers_survive_a_reload_and_submission_gives_a_receipt(new_browser, examiner, database, session_id):
    pin = open_and_start(examiner, session_id)
    candidate, attempt_id = checked_in(new_browser, database, session_id, 1, pin)
    for seq, (item, value) in enumerate([("q1", "A"), ("q2", ["B", "D"]), ("q1", "C")], start=1):
        ack = candidate.post_json(f"/api/attempts/{attempt_id}/saves", save_op(seq, item, value))
        assert ack.status_code == 200 and ack.json["ok"] and ack.json["seq"] == seq
    state = candidate.get(f"/api/attempts/{attempt_id}?client_id=browser-0001").json
    assert state["phase"] == "active" and state["last_seq"] == 3
    assert {k: v["value"] for k, v in state["responses"].items()} == {"q1": "C", "q2": ["B", "D"]}
    assert 0 < state["remaining_ms"] <= 120 * 60_000
    receipt = candidate.post_json(f"/api/attempts/{attempt_id}/submit", {"client_id": "browser-0001"}).json
    assert receipt["answers"] == 2 and len(receipt["hash"]) == 64
    late = candidate.post_json(f"/api/attempts/{attempt_id}/saves", save_op(4, "q3", "A"))
    assert late.status_code == 409 and late.json["error"]["code"] == "delivery.attempt_closed"


def test_a_candidate_cannot_touch_another_candidates_attempt(new_browser, examiner, database, session_id):
    pin = open_and_start(examiner, session_id)
    _, first = checked_in(new_browser, database, session_id, 1, pin)
    other, _ = checked_in(new_browser, database, session_id, 2, pin)
    assert other.get(f"/api/attempts/{first}").status_code == 404
    assert other.post_json(f"/api/attempts/{first}/saves", save_op(1, "q1", "A")).status_code == 404
    assert other.post_json(f"/api/attempts/{first}/submit", {"client_id": "browser-0002"}).status_code == 404


def test_examiner_scope_and_supervisor_is_read_only(new_browser, examiner, database, session_id):
    pin = open_and_start(examiner, session_id)
    _, attempt_id = checked_in(new_browser, database, session_id, 1, pin)
    elsewhere = new_browser()
    elsewhere.login("examiner_sz01")                                    # a Suzhou examiner, Nanjing session
    assert elsewhere.post_json(f"/api/sessions/{session_id}/pause", {"reason": "x"}).status_code == 403
    supervisor = new_browser()
    supervisor.login("supervisor_nj")
    overview = supervisor.get(f"/api/sessions/{session_id}").json
    assert overview["status"] == "running" and overview["roster"][0]["attempt"]["phase"] == "active"
    assert supervisor.post_json(f"/api/sessions/{session_id}/pause", {"reason": "x"}).status_code == 403
    added = examiner.post_json(f"/api/attempts/{attempt_id}/time",
                               {"seconds": 600, "kind": "incident", "reason": "电脑死机"})
    assert added.status_code == 200
    assert examiner.post_json(f"/api/time-adjustments/{added.json['adjustment_id']}/revert").status_code == 200
    bad = examiner.post_json(f"/api/attempts/{attempt_id}/time", {"seconds": 600, "kind": "bribe", "reason": "x"})
    assert bad.status_code == 400
    assert examiner.post_json(f"/api/sessions/{session_id}/pause", {"reason": ""}).status_code == 400
    assert examiner.post_json(f"/api/sessions/{session_id}/pause", {"reason": "停电"}).status_code == 200
    assert examiner.get(f"/api/sessions/{session_id}").json["status"] == "paused"
    assert examiner.post_json(f"/api/sessions/{session_id}/resume").status_code == 200
    ended = examiner.post_json(f"/api/sessions/{session_id}/end").json
    assert ended["force_submitted"] == 1
    with database.session(write=False) as db:
        actions = db.execute(select(AuditEvent.action)).scalars().all()
    assert {"time_adjusted", "time_adjustment_reverted", "attempt_force_submitted", "session_ended"} <= set(actions)


def test_saves_over_socketio_are_acked_after_commit(database_url, tmp_path, database, session_id):
    app = create_app({"database_url": database_url, "instance_path": tmp_path / "i", "secret_key": "t",
                      "redis_url": "", "testing": True})
    examiner = Browser(app.test_client())
    examiner.login("examiner_nj01")
    pin = open_and_start(examiner, session_id)
    candidate, attempt_id = checked_in(lambda: Browser(app.test_client()), database, session_id, 3, pin)
    socket = app.extensions["socketio"].test_client(app, flask_test_client=candidate.client)
    op = {**save_op(1, "q7", "B", client="browser-0003"), "attempt_id": attempt_id}
    ack = socket.emit("save", op, callback=True)
    assert ack == {"ok": True, "op_id": op["op_id"], "seq": 1, "duplicate": False}
    assert socket.emit("save", op, callback=True)["duplicate"] is True
    state = socket.emit("state", {"attempt_id": attempt_id, "client_id": "browser-0003"}, callback=True)
    assert state["responses"]["q7"]["value"] == "B"
    assert socket.emit("save", {**op, "attempt_id": attempt_id + 999}, callback=True)["ok"] is False
    assert socket.emit("save", {"attempt_id": attempt_id, "seq": "x"}, callback=True)["error"]["code"] == "delivery.bad_op"
    socket.disconnect()
    with database.transaction() as db:                   # every sign-in revoked: a new socket is refused at once
        db.execute(update(UserSession).values(revoked_at=utcnow()))
    assert not app.extensions["socketio"].test_client(app, flask_test_client=candidate.client).is_connected()
    app.extensions["exam_db"].dispose()


def test_a_second_browser_takes_over_only_with_the_examiners_approval(new_browser, examiner, database, session_id):
    pin = open_and_start(examiner, session_id)
    first, attempt_id = checked_in(new_browser, database, session_id, 1, pin)
    ticket, id_number, entry_id = seat(database, session_id, 1)
    second = new_browser()                                          # the same candidate on another computer
    assert second.post_json("/api/check-in", {"ticket_number": ticket, "id_number": id_number,
                                              "pin": pin}).status_code == 200
    refused = second.post_json(f"/api/roster/{entry_id}/attempt", {"client_id": "browser-other"})
    assert refused.status_code == 409 and refused.json["error"]["code"] == "delivery.other_browser"
    assert first.post_json(f"/api/attempts/{attempt_id}/saves", save_op(1, "q1", "A")).status_code == 200
    overview = examiner.get(f"/api/sessions/{session_id}").json
    assert overview["roster"][0]["attempt"]["takeover_waiting"] is True
    assert examiner.post_json(f"/api/attempts/{attempt_id}/takeover/approve").status_code == 200
    moved = second.post_json(f"/api/roster/{entry_id}/attempt", {"client_id": "browser-other"})
    assert moved.status_code == 200 and moved.json["responses"]["q1"]["value"] == "A"
    stale = first.post_json(f"/api/attempts/{attempt_id}/saves", save_op(2, "q2", "B"))
    assert stale.status_code == 409 and stale.json["error"]["code"] == "delivery.taken_over"
    assert first.get(f"/api/attempts/{attempt_id}?client_id=browser-0001").status_code == 409


def test_integrity_signals_reach_the_examiner(new_browser, examiner, database, session_id):
    pin = open_and_start(examiner, session_id)
    candidate, attempt_id = checked_in(new_browser, database, session_id, 1, pin)
    for kind in ("focus_lost", "focus_lost", "paste"):
        assert candidate.post_json(f"/api/attempts/{attempt_id}/signals", {"kind": kind}).status_code == 200
    assert candidate.post_json(f"/api/attempts/{attempt_id}/signals", {"kind": "cheating"}).status_code == 400
    # a save from another address than the check-in's is noted once per address
    for seq in (1, 2):
        response = candidate.client.post(f"/api/attempts/{attempt_id}/saves", json=save_op(seq, "q1", "A"),
                                          headers={"X-CSRF-Token": candidate.csrf()},
                                          environ_base={"REMOTE_ADDR": "10.9.9.9"})
        assert response.status_code == 200
    signals = examiner.get(f"/api/sessions/{session_id}").json["roster"][0]["attempt"]["signals"]
    assert signals == {"focus_lost": 2, "paste": 1, "address_changed": 1}
