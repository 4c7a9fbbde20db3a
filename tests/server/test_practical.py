"""The practical exam on the server: machine events stored once and in order (REST and Socket.IO), seq gaps,
duplicates, reload by replay, scopes, a restart of the machine sessions, the task draw, and the practical-task
bank's review workflow with `task check` as the gate."""
from __future__ import annotations

import hashlib
import io
import json
import uuid

import pytest
from sqlalchemy import select, text

from exam_server import machines, practical
from exam_server.demo_practical import EXAMPLES, example_task
from exam_server.models import (AuditEvent, ExamSession, PracticalAssignment, PracticalTask, RosterEntry, TraceEvent,
                                utcnow)
from tests.server.conftest import Browser

CLIENT_ID = "browser-0001"


def practical_example(folder: str):
    return EXAMPLES / folder


# ---- fixtures --------------------------------------------------------------------------------------------------

@pytest.fixture
def papp(socket_app):
    """The app (without a message queue: the Socket.IO test client cannot run over one)."""
    return socket_app


def lathe_session_id(database) -> int:
    with database.session(write=False) as db:
        return db.execute(select(ExamSession.id).where(ExamSession.room == "数控车间 1")).scalar_one()


def start_lathe_session(papp, database) -> tuple[int, str]:
    examiner = Browser(papp.test_client())
    examiner.login("examiner_nj01")
    session_id = lathe_session_id(database)
    pin = examiner.post_json(f"/api/sessions/{session_id}/check-in").json["pin"]
    assert examiner.post_json(f"/api/sessions/{session_id}/start").status_code == 200
    return session_id, pin


def candidate_at(papp, database, session_id: int, seat: int, pin: str) -> tuple[Browser, int]:
    with database.session(write=False) as db:
        entry = db.execute(select(RosterEntry).where(RosterEntry.exam_session_id == session_id)
                           .order_by(RosterEntry.seat).offset(seat - 1)).scalars().first()
        ticket, id_number, entry_id = entry.ticket_number, entry.candidate.id_number, entry.id
    browser = Browser(papp.test_client())
    assert browser.post_json("/api/check-in", {"ticket_number": ticket, "id_number": id_number,
                                               "pin": pin}).status_code == 200
    attempt = browser.post_json(f"/api/roster/{entry_id}/attempt", {"client_id": f"browser-{seat:04d}"}).json
    return browser, attempt["attempt_id"]


@pytest.fixture
def lathe(papp, database):
    """A candidate in the running lathe practical session: (browser, attempt id)."""
    session_id, pin = start_lathe_session(papp, database)
    return candidate_at(papp, database, session_id, 1, pin)


def op(seq: int, type_: str, payload: dict | None = None, op_id: str | None = None) -> dict:
    return {"op_id": op_id or uuid.uuid4().hex, "seq": seq, "client_id": CLIENT_ID,
            "event": {"type": type_, "payload": payload or {}, "t_client": 1000 * seq}}


# Power on, reference return of both axes, then INC mode, 0.1 mm increment and one step X−: on the lathe one
# INC step of X is a diameter step (docs/trace-format.md), so the screen's machine X must drop by exactly 0.1.
OPENING = [("power", {"on": True}), ("mode", {"mode": "REF"}), ("ref_return", {"axis": "X"}),
           ("ref_return", {"axis": "Z"}), ("mode", {"mode": "INC"}), ("increment", {"mm": 0.1}),
           ("step", {"axis": "X", "direction": -1})]


def send(browser: Browser, attempt_id: int, ops: list[dict]):
    return browser.post_json(f"/api/attempts/{attempt_id}/machine/events", ops)


def machine_state(browser: Browser, attempt_id: int) -> dict:
    response = browser.get(f"/api/attempts/{attempt_id}/machine?client_id={CLIENT_ID}")
    assert response.status_code == 200, response.json
    return response.json


# ---- events: order, duplicates, gaps ---------------------------------------------------------------------------

def test_events_are_stored_once_in_order_and_applied(lathe, database):
    browser, attempt_id = lathe
    ops = [op(seq, type_, payload) for seq, (type_, payload) in enumerate(OPENING, start=1)]
    acks = send(browser, attempt_id, ops).json
    assert [a["seq"] for a in acks] == [1, 2, 3, 4, 5, 6, 7] and all(a["ok"] for a in acks)
    referenced, stepped = acks[3]["update"], acks[6]["update"]
    assert referenced["referenced"] == ["X", "Z"] and stepped["mode"] == "INC"
    assert stepped["position"]["machine"]["X"] == pytest.approx(referenced["position"]["machine"]["X"] - 0.1)
    assert stepped["position"]["machine"]["Z"] == pytest.approx(referenced["position"]["machine"]["Z"])
    again = send(browser, attempt_id, [ops[2]]).json                      # a resend after a lost ack
    assert again == [{"ok": True, "seq": 3, "duplicate": True}]
    with database.session(write=False) as db:
        rows = db.execute(select(TraceEvent).where(TraceEvent.attempt_id == attempt_id)
                          .order_by(TraceEvent.seq)).scalars().all()
        assert [r.seq for r in rows] == [1, 2, 3, 4, 5, 6, 7]              # the duplicate was not stored twice
        assert [r.type for r in rows] == [t for t, _ in OPENING] and json.loads(rows[2].payload) == {"axis": "X"}
        assert db.execute(select(PracticalAssignment.last_seq)
                          .where(PracticalAssignment.attempt_id == attempt_id)).scalar_one() == 7


def test_a_seq_gap_is_refused_with_the_last_seq(lathe):
    browser, attempt_id = lathe
    assert send(browser, attempt_id, [op(1, "power", {"on": True})]).json[0]["ok"]
    gap = send(browser, attempt_id, [op(3, "mode", {"mode": "REF"})]).json[0]
    assert gap["ok"] is False and gap["error"]["code"] == "delivery.seq_gap" and gap["last_seq"] == 1
    old = send(browser, attempt_id, [op(1, "power", {"on": False})]).json[0]   # a new op reusing seq 1
    assert old["error"]["code"] == "delivery.seq_gap" and old["last_seq"] == 1
    assert send(browser, attempt_id, [op(2, "mode", {"mode": "REF"})]).json[0]["update"]["mode"] == "REF"


def test_malformed_operations_are_refused_but_an_unknown_event_is_kept_as_invalid(lathe):
    browser, attempt_id = lathe
    bad = [{"op_id": "short", "seq": 1, "event": {"type": "power", "payload": {}}},
           {"op_id": uuid.uuid4().hex, "seq": 1, "event": {"type": "Power!", "payload": {}}},
           {"op_id": uuid.uuid4().hex, "seq": 1, "event": {"type": "power", "payload": []}},
           {**op(1, "power", {"on": True}), "attempt_id": attempt_id + 1}]
    assert [a["error"]["code"] for a in send(browser, attempt_id, bad).json] == ["delivery.bad_op"] * 4
    kept = send(browser, attempt_id, [op(1, "warp_drive", {"on": True})]).json[0]
    assert kept["ok"] is True and kept["update"]["ok"] is False               # stored; the session says why
    assert "unknown event type" in kept["update"]["reason"]
    state = machine_state(browser, attempt_id)
    assert state["last_seq"] == 1 and state["view"]["power"] is False


def test_machine_events_over_socketio(papp, lathe):
    browser, attempt_id = lathe
    socket = papp.extensions["socketio"].test_client(papp, flask_test_client=browser.client)
    first = {**op(1, "power", {"on": True}), "attempt_id": attempt_id}
    ack = socket.emit("machine", first, callback=True)
    assert ack["ok"] is True and ack["seq"] == 1 and ack["update"]["power"] is True
    assert socket.emit("machine", first, callback=True) == {"ok": True, "seq": 1, "duplicate": True}
    gap = socket.emit("machine", {**op(5, "reset"), "attempt_id": attempt_id}, callback=True)
    assert gap["error"]["code"] == "delivery.seq_gap" and gap["last_seq"] == 1
    other = socket.emit("machine", {**op(2, "reset"), "attempt_id": attempt_id + 999}, callback=True)
    assert other["ok"] is False and other["error"]["code"] == "error.not_found"
    assert len(papp.extensions["practical_machines"]) == 1                   # probing leaves nothing behind
    socket.disconnect()


# ---- reload, restart, scope ------------------------------------------------------------------------------------

def test_reload_replays_to_the_same_view(papp, lathe):
    browser, attempt_id = lathe
    acks = send(browser, attempt_id, [op(s, t, p) for s, (t, p) in enumerate(OPENING, start=1)]).json
    live = machine_state(browser, attempt_id)
    assert live["last_seq"] == 7 and live["machine_type"] == "lathe"
    assert live["view"]["position"] == acks[-1]["update"]["position"]
    assert live["task"]["id"] == "LX-ZJ01" and live["task"]["time_limit_min"] == 180
    assert live["task"]["drawing_url"] == f"/api/attempts/{attempt_id}/machine/drawing"
    assert {"micrometer", "vernier_caliper"} <= {i["name"] for i in live["task"]["instruments"]}
    assert 0 < live["clock"]["remaining_ms"] <= 180 * 60_000 and live["clock"]["phase"] == "active"
    papp.extensions["practical_machines"].drop(attempt_id)                    # evicted: rebuilt by replay
    assert machine_state(browser, attempt_id)["view"] == live["view"]


def test_a_restart_of_the_machine_sessions_loses_nothing(papp, lathe):
    browser, attempt_id = lathe
    send(browser, attempt_id, [op(s, t, p) for s, (t, p) in enumerate(OPENING, start=1)])
    before = machine_state(browser, attempt_id)
    papp.extensions["practical_machines"] = machines.MachineManager(practical.loader(papp.extensions["exam_db"]))
    after = machine_state(browser, attempt_id)                                # a fresh process: nothing in memory
    assert after["view"] == before["view"] and after["last_seq"] == 7
    step = send(browser, attempt_id, [op(8, "step", {"axis": "X", "direction": -1})]).json[0]
    x_before = before["view"]["position"]["machine"]["X"]
    assert step["update"]["position"]["machine"]["X"] == pytest.approx(x_before - 0.1)


def test_sessions_are_evicted_and_rebuilt_in_order(papp, database):
    session_id, pin = start_lathe_session(papp, database)
    first, first_id = candidate_at(papp, database, session_id, 1, pin)
    second, second_id = candidate_at(papp, database, session_id, 2, pin)
    manager = papp.extensions["practical_machines"] = machines.MachineManager(
        practical.loader(papp.extensions["exam_db"]), max_sessions=1)
    for seq, (type_, payload) in enumerate(OPENING, start=1):               # the two take turns: one slot only
        for browser, attempt_id, client in ((first, first_id, CLIENT_ID), (second, second_id, "browser-0002")):
            ack = send(browser, attempt_id, [{**op(seq, type_, payload), "client_id": client}]).json[0]
            assert ack["ok"] and ack["update"]["ok"], ack
    assert len(manager) == 1 and manager.rebuilds >= 2 * len(OPENING) - 1
    views = [browser.get(f"/api/attempts/{a}/machine?client_id={c}").json["view"]
             for browser, a, c in ((first, first_id, CLIENT_ID), (second, second_id, "browser-0002"))]
    assert views[0]["position"] == views[1]["position"] and views[0]["seq"] == 7


def test_another_candidates_attempt_is_not_found(papp, database):
    session_id, pin = start_lathe_session(papp, database)
    owner, attempt_id = candidate_at(papp, database, session_id, 1, pin)
    send(owner, attempt_id, [op(1, "power", {"on": True})])
    other, _ = candidate_at(papp, database, session_id, 2, pin)
    assert other.get(f"/api/attempts/{attempt_id}/machine").status_code == 404
    assert other.get(f"/api/attempts/{attempt_id}/machine/drawing").status_code == 404
    assert send(other, attempt_id, [op(2, "reset")]).status_code == 404
    assert other.get(f"/exam/practical/{attempt_id}").status_code == 404
    drawing = owner.get(f"/api/attempts/{attempt_id}/machine/drawing")
    assert drawing.status_code == 200 and drawing.mimetype == "image/svg+xml" and b"<svg" in drawing.data
    assert "sandbox" in drawing.headers["Content-Security-Policy"]


def test_no_events_after_submission_and_the_trace_is_append_only(lathe, database):
    browser, attempt_id = lathe
    first = op(1, "power", {"on": True}, op_id="a" * 32)
    send(browser, attempt_id, [first])
    assert browser.post_json(f"/api/attempts/{attempt_id}/submit", {"client_id": CLIENT_ID}).status_code == 200
    # The receipt's trace digest, written out from its definition: SHA-256 of the canonical JSON (sorted keys,
    # no spaces, UTF-8) of {"attempt": id, "trace": [[seq, op_id, type, payload], ...]}.
    canonical = '{"attempt":%d,"trace":[[1,"%s","power",{"on":true}]]}' % (attempt_id, "a" * 32)
    with database.session(write=False) as db:
        from exam_server.models import Attempt
        assert practical.trace_digest(db, db.get(Attempt, attempt_id)) == (
            1, hashlib.sha256(canonical.encode()).hexdigest())
    late = send(browser, attempt_id, [op(2, "reset")]).json[0]
    assert late["error"]["code"] == "delivery.attempt_closed"
    with pytest.raises(Exception, match="append-only"):
        with database.transaction() as db:
            db.execute(text("DELETE FROM trace_events WHERE attempt_id = :a"), {"a": attempt_id})


# ---- the task and its draw -------------------------------------------------------------------------------------

def test_equivalent_tasks_are_drawn_with_a_recorded_seed(papp, database):
    session_id = lathe_session_id(database)
    with database.transaction() as db:
        lathe = db.execute(select(PracticalTask).where(PracticalTask.code == "LX-ZJ01")).scalar_one()
        data, drawing, program = example_task("lathe_zj01")
        twin = practical.upload_task(db, {**data, "id": "LX-ZJ01B"}, drawing, program, lathe.job_type_id,
                                     lathe.level, None, utcnow())
        practical.record_check(db, twin, practical.run_check(twin.task_json), None, utcnow())
        practical.transition(db, twin, "review", None, utcnow())
        practical.transition(db, twin, "activate", None, utcnow())
        part = practical.set_pool(db, db.get(ExamSession, session_id), [lathe, twin], None, utcnow(), seed="s-1")
        pool = sorted([lathe.id, twin.id])
    session_id, pin = start_lathe_session(papp, database)
    drawn = {}
    for seat in range(1, 7):
        browser, attempt_id = candidate_at(papp, database, session_id, seat, pin)
        state = browser.get(f"/api/attempts/{attempt_id}/machine?client_id=browser-{seat:04d}").json
        with database.session(write=False) as db:
            row = db.execute(select(PracticalAssignment).where(PracticalAssignment.attempt_id == attempt_id)
                             ).scalar_one()
            entry_id = row.attempt.roster_entry_id
            assert json.loads(row.pool) == pool and row.draw_seed == f"s-1:{entry_id}"
            drawn[seat] = row.task_id
            assert state["task"]["id"] == row.task.code
        again = browser.get(f"/api/attempts/{attempt_id}/machine?client_id=browser-{seat:04d}").json
        assert again["task"]["id"] == state["task"]["id"]                  # drawn once, then kept
    assert set(drawn.values()) == set(pool)                               # six seeded draws hit both tasks
    with database.transaction() as db:                                    # the pool is fixed now
        with pytest.raises(Exception, match="practical.pool_fixed"):
            practical.set_pool(db, db.get(ExamSession, session_id), [lathe], None, utcnow())
        actions = db.execute(select(AuditEvent.action)).scalars().all()
        assert actions.count("practical_task_assigned") == 6 and part.draw_seed == "s-1"


# ---- the practical-task bank -----------------------------------------------------------------------------------

def upload(browser: Browser, data: dict, drawing: str, program: str, job_type_id: int):
    files = {"task": (io.BytesIO(json.dumps(data, ensure_ascii=False).encode()), "task.json"),
             "drawing": (io.BytesIO(drawing.encode()), "drawing.svg"),
             "program": (io.BytesIO(program.encode()), "O1001.nc"),
             "job_type_id": str(job_type_id), "level": "4"}
    return browser.post("/practical-tasks", files, content_type="multipart/form-data")


def test_task_bank_review_with_the_task_check_as_gate(papp, database):
    author, admin = Browser(papp.test_client()), Browser(papp.test_client())
    author.login("author")
    admin.login("admin")
    with database.session(write=False) as db:
        lathe = db.execute(select(PracticalTask).where(PracticalTask.code == "LX-ZJ01")).scalar_one()
        job_type_id = lathe.job_type_id
    data, drawing, program = example_task("lathe_zj01")
    # L01 is Ø48 0/−0.039; the reference program turns it to 47.98 (examples/tasks/lathe_zj01). Claiming
    # Ø49 0/−0.039 (limits 48.961…49.000) puts that part out of tolerance: the check must fail.
    broken = {**data, "items": [{**data["items"][0], "nominal": 49}, *data["items"][1:]]}
    response = upload(author, broken, drawing, program, job_type_id)
    assert response.status_code == 302
    task_id = int(response.headers["Location"].rsplit("/", 1)[1])
    with database.session(write=False) as db:
        task = db.get(PracticalTask, task_id)
        assert task.code == "LX-ZJ01" and task.version == 2 and task.status.value == "draft"
    assert author.post(f"/practical-tasks/{task_id}/activate").status_code == 409      # a draft
    assert author.post(f"/practical-tasks/{task_id}/review").status_code == 409        # its own author
    assert admin.post(f"/practical-tasks/{task_id}/review").status_code == 302
    assert admin.post(f"/practical-tasks/{task_id}/activate").status_code == 409       # never checked
    assert admin.post(f"/practical-tasks/{task_id}/check").status_code == 302
    page = admin.get(f"/practical-tasks/{task_id}").get_data(as_text=True)
    assert "OUT" in page and "L01" in page
    assert admin.post(f"/practical-tasks/{task_id}/activate").status_code == 409       # the check failed
    good = upload(author, data, drawing, program, job_type_id)
    good_id = int(good.headers["Location"].rsplit("/", 1)[1])
    assert admin.post(f"/practical-tasks/{good_id}/review").status_code == 302
    assert admin.post(f"/practical-tasks/{good_id}/check").status_code == 302
    assert admin.post(f"/practical-tasks/{good_id}/activate").status_code == 302
    assert admin.post(f"/practical-tasks/{good_id}/retire").status_code == 302
    with database.session(write=False) as db:
        good_task = db.get(PracticalTask, good_id)
        assert good_task.version == 3 and good_task.status.value == "retired" and good_task.check_ok is True
        assert db.get(PracticalTask, task_id).check_ok is False
        actions = db.execute(select(AuditEvent.action).where(AuditEvent.object_type == "practical_task",
                                                             AuditEvent.object_id == str(good_id))).scalars().all()
    assert actions == ["practical_task_uploaded", "practical_task_reviewed", "practical_task_checked",
                       "practical_task_active", "practical_task_retired"]
    listing = admin.get("/practical-tasks").get_data(as_text=True)
    assert "LX-ZJ01" in listing and "MX-ZJ01" in listing
    candidate_view = Browser(papp.test_client())
    candidate_view.login("ks001")
    assert candidate_view.get("/practical-tasks").status_code == 403


def test_uploads_with_a_bad_task_or_drawing_are_refused(papp, database):
    author = Browser(papp.test_client())
    author.login("author")
    with database.session(write=False) as db:
        job_type_id = db.execute(select(PracticalTask.job_type_id)).scalars().first()
    data, drawing, program = example_task("lathe_zj01")
    typo = {**data, "time_limt_min": 5}
    assert upload(author, typo, drawing, program, job_type_id).status_code == 400
    scripted = drawing.replace("</svg>", "<script>alert(1)</script></svg>")
    assert upload(author, data, scripted, program, job_type_id).status_code == 400
    assert upload(author, data, drawing, "", job_type_id).status_code == 400           # program missing


def test_client_files_and_three_js_are_served_locally(papp):
    client = papp.test_client()
    build = client.get("/client/vendor/three.module.min.js")         # 0.187 ships no .min: the plain build
    assert build.status_code == 200 and b"from './three.core.js'" in build.data
    assert client.get("/client/vendor/three.core.js").status_code == 200
    addon = client.get("/client/vendor/three/examples/jsm/controls/OrbitControls.js").get_data(as_text=True)
    assert "from '/client/vendor/three.module.js'" in addon and "from 'three'" not in addon
    assert client.get("/client/vendor/three/package.json").status_code == 404
    assert client.get("/client/vendor/three.cjs").status_code == 404
    assert client.get("/client/practical/..%2Fexam.js").status_code == 404


def test_practical_pages_for_the_entry_and_the_attempt(papp, database):
    session_id, pin = start_lathe_session(papp, database)
    with database.session(write=False) as db:
        entry_id = db.execute(select(RosterEntry.id).where(RosterEntry.exam_session_id == session_id)
                              .order_by(RosterEntry.seat)).scalars().first()
    browser, attempt_id = candidate_at(papp, database, session_id, 1, pin)
    moved = browser.get(f"/exam/practical/entry/{entry_id}")
    assert moved.status_code == 302 and moved.headers["Location"].endswith(f"/exam/practical/{attempt_id}")
    page = browser.get(f"/exam/practical/{attempt_id}")
    assert page.status_code == 200 and f'data-entry="{entry_id}"' in page.get_data(as_text=True)
    theory = Browser(papp.test_client())
    theory.login("ks001")
    with database.session(write=False) as db:
        theory_entry = db.execute(select(RosterEntry.id).join(ExamSession).where(ExamSession.part == "theory")
                                  .order_by(RosterEntry.id)).scalars().first()
    assert theory.get(f"/exam/practical/entry/{theory_entry}").status_code == 404


def test_idle_sessions_are_dropped_and_rebuilt_by_replay():
    """The manager alone, on a fake clock: an idle session is evicted and comes back equal by replay."""
    stored: dict[int, list[dict]] = {1: [], 2: []}
    now = [0.0]

    def load(attempt_id, before_seq):
        events = [e for e in stored[attempt_id] if before_seq is None or e["seq"] < before_seq]
        return machines.MachineSource("lathe", {}, events)

    manager = machines.MachineManager(load, idle_seconds=60, clock=lambda: now[0])
    for seq, (type_, payload) in enumerate(OPENING, start=1):
        event = {"v": 1, "seq": seq, "t_client": 0, "t_server": None, "type": type_, "payload": payload}
        stored[1].append(event)
        live = manager.apply(1, event)
    view, seq = manager.view(1, 7)
    assert seq == 7 and view["position"] == live["position"] and manager.rebuilds == 1   # built once, empty
    now[0] = 61.0                                                     # attempt 1 idles past the limit...
    manager.view(2, 0)                                                # ...and goes when another is touched
    assert not manager.cached(1) and manager.cached(2)
    again, _ = manager.view(1, 7)
    assert again == view and manager.rebuilds == 3


def test_a_resent_outbox_racing_itself_stores_each_event_once_in_order(lathe, database):
    """Two copies of the same outbox (a reconnect resending while the first send is still in flight) race on
    one attempt: every event is stored once, in seq order, and the session ends where one copy would."""
    import threading

    _, attempt_id = lathe
    with database.session(write=False) as db:
        from exam_server.models import Attempt
        user_id = db.get(Attempt, attempt_id).roster_entry.candidate_id
    ops = [{**op(seq, type_, payload), "attempt_id": attempt_id} for seq, (type_, payload)
           in enumerate(OPENING, start=1)]
    manager = machines.MachineManager(practical.loader(database))
    commit = practical.direct_commit(database, utcnow)
    acks: list[list[dict]] = [[], []]

    def outbox(copy: int):
        for operation in ops:
            while True:
                try:
                    ack = practical.submit_op(commit, manager, user_id, operation)
                except Exception as error:            # the other copy is ahead: resend from its last_seq
                    assert getattr(error, "key", "") == "delivery.seq_gap", error
                    continue
                acks[copy].append(ack)
                break

    threads = [threading.Thread(target=outbox, args=(n,)) for n in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for copy in acks:
        assert [a["seq"] for a in copy] == [1, 2, 3, 4, 5, 6, 7] and all(a["ok"] for a in copy)
    applied = [a for copy in acks for a in copy if "update" in a]
    assert sorted(a["seq"] for a in applied) == [1, 2, 3, 4, 5, 6, 7]     # each applied exactly once
    with database.session(write=False) as db:
        assert db.execute(select(TraceEvent.seq).where(TraceEvent.attempt_id == attempt_id)
                          .order_by(TraceEvent.seq)).scalars().all() == [1, 2, 3, 4, 5, 6, 7]
    view, seq = manager.view(attempt_id, 7)
    assert seq == 7 and view["mode"] == "INC" and view["referenced"] == ["X", "Z"]


def test_the_reference_trace_played_by_a_candidate_makes_a_part_in_tolerance(papp, lathe, database):
    """examples/tasks/lathe_zj01/trace_reference.jsonl through the REST fallback, as a candidate's outbox would
    send it: the summary measures every score-sheet item within the drawing's limits."""
    browser, attempt_id = lathe
    lines = (practical_example("lathe_zj01") / "trace_reference.jsonl").read_text().splitlines()
    events = [json.loads(line) for line in lines if line.strip()]
    acks = send(browser, attempt_id, [op(e["seq"], e["type"], e["payload"]) for e in events]).json
    assert [a["seq"] for a in acks] == [e["seq"] for e in events] and all(a["update"]["ok"] for a in acks)
    with database.session(write=False) as db:
        from exam_server.models import Attempt
        summary = practical.attempt_summary(db, papp.extensions["practical_machines"], db.get(Attempt, attempt_id))
    data, _, _ = example_task("lathe_zj01")
    assert [m["id"] for m in summary["measurements"]] == [item["id"] for item in data["items"]]
    assert all(m["ok"] for m in summary["measurements"]), [m for m in summary["measurements"] if not m["ok"]]
    assert summary["alarms"] == [] and summary["crashes"] == []


def test_safe_exam_browser_guards_the_practical_pages_and_routes(papp, database):
    """When the practical exam has a SEB Config Key, its pages and HTTP routes want the SEB proof, as the theory
    routes and the Socket.IO connection do (exam_server/seb.py): refused with `seb.required` without it."""
    from exam_server import seb
    from exam_server.models import Exam

    key = "b" * 64
    session_id, pin = start_lathe_session(papp, database)
    browser, attempt_id = candidate_at(papp, database, session_id, 1, pin)      # checked in before the key is set
    with database.transaction() as db:
        session = db.get(ExamSession, session_id)
        entry_id = next(e.id for e in session.roster if e.attempt is not None and e.attempt.id == attempt_id)
        db.get(Exam, session.exam_id).seb_config_key = key
    routes = [("GET", f"/api/attempts/{attempt_id}/machine?client_id={CLIENT_ID}"),
              ("POST", f"/api/attempts/{attempt_id}/machine/events"),
              ("GET", f"/api/attempts/{attempt_id}/machine/drawing"),
              ("GET", f"/exam/practical/{attempt_id}"), ("GET", f"/exam/practical/entry/{entry_id}")]

    def call(method, path, headers, seq):
        if method == "GET":
            return browser.get(path, headers=headers)
        return browser.client.post(path, json=[op(seq, "power", {"on": True})],
                                   headers={"X-CSRF-Token": browser.csrf(), **headers})

    for method, path in routes:
        refused = call(method, path, {}, 1)
        assert refused.status_code == 403, path
        assert "Safe Exam Browser" in refused.get_data(as_text=True), path      # the message, in either language
    assert call(*routes[0], {}, 1).json["error"]["code"] == "seb.required"
    assert call(*routes[1], {}, 1).json["error"]["code"] == "seb.required"

    page = f"http://localhost/exam/practical/{attempt_id}"                       # SEB's JS API: the page URL's hash
    proof = {seb.JS_HASH_HEADER: seb.key_hash(page, key), seb.JS_URL_HEADER: page}
    wrong = {**proof, seb.JS_HASH_HEADER: seb.key_hash(page, "c" * 64)}
    assert call(*routes[0], wrong, 1).status_code == 403
    served = [call(method, path, proof, 1) for method, path in routes]
    assert [r.status_code for r in served] == [200, 200, 200, 200, 302]        # the entry page moves to the attempt
    assert served[1].json[0]["ok"] is True and served[1].json[0]["seq"] == 1
    native = f"http://localhost/api/attempts/{attempt_id}/machine?client_id={CLIENT_ID}"   # SEB's own header
    state = browser.get(routes[0][1], headers={seb.SEB_HEADER: seb.key_hash(native, key)})
    assert state.status_code == 200 and state.json["last_seq"] == 1 and state.json["view"]["power"] is True
