"""Monitoring: per-candidate pause and force-submit, misconduct with its sanction and signatures, the session
report, the dashboard's data (never the answers), role checks, and the live Socket.IO room."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from exam_server import create_app, delivery, monitoring
from exam_server.accounts import find_user
from exam_server.errors import UserError
from exam_server.models import Attempt, AuditEvent, ExamSession, MisconductRecord, utcnow
from exam_server.timing import Phase
from tests.server.conftest import PAPER_KEY, Browser, theory_session
from tests.server.test_exam_api import checked_in, open_and_start, save_op


@pytest.fixture
def quiet_app(database_url, tmp_path):
    """An app without a message queue: Socket.IO's test client cannot run over one."""
    app = create_app({"database_url": database_url, "instance_path": tmp_path / "q", "secret_key": "t",
                      "redis_url": "", "testing": True})
    yield app
    app.extensions["exam_db"].dispose()


@pytest.fixture
def browsers(quiet_app):
    def make(username=None):
        browser = Browser(quiet_app.test_client())
        if username:
            browser.login(username)
        return browser
    return make


def started_attempt(database, t0):
    """The demo session started at t0 and its first seat's attempt started at t0; returns ids and duration."""
    with database.transaction() as db:
        session, examiner = theory_session(db), find_user(db, "examiner_nj01")
        delivery.open_check_in(db, session, examiner, t0)
        delivery.start_session(db, session, examiner, t0, PAPER_KEY)
        attempt = delivery.start_attempt(db, session.roster[0], t0)
        return session.id, attempt.id, session.duration_s


# ---- use cases ---------------------------------------------------------------------------------------------

def test_pausing_one_candidate_credits_the_paused_time_back(database):
    t0 = utcnow()
    session_id, attempt_id, duration_s = started_attempt(database, t0)
    with database.transaction() as db:
        attempt, examiner = db.get(Attempt, attempt_id), find_user(db, "examiner_nj01")
        delivery.pause_attempt(db, attempt, examiner, "工位死机", t0 + timedelta(minutes=10))
        state = delivery.clock(attempt, t0 + timedelta(minutes=20))
        # paused at 10 min: the time left stays at duration − 10 min while the pause lasts
        assert state.phase is Phase.paused and state.remaining_ms == (duration_s - 600) * 1000
        with pytest.raises(UserError):
            delivery.pause_attempt(db, attempt, examiner, "again", t0 + timedelta(minutes=21))
        delivery.resume_attempt(db, attempt, examiner, t0 + timedelta(minutes=25))
        # at 30 min, after a 15-min pause: duration − 30 min + 15 min left
        state = delivery.clock(attempt, t0 + timedelta(minutes=30))
        assert state.phase is Phase.active and state.remaining_ms == (duration_s - 1800 + 900) * 1000
        other = delivery.start_attempt(db, attempt.roster_entry.exam_session.roster[1], t0)
        assert delivery.clock(other, t0 + timedelta(minutes=30)).remaining_ms == (duration_s - 1800) * 1000
        with pytest.raises(UserError):
            delivery.resume_attempt(db, attempt, examiner, t0 + timedelta(minutes=31))


def test_force_submit_and_void_close_one_attempt_and_are_audited(database):
    t0 = utcnow()
    _, attempt_id, _ = started_attempt(database, t0)
    with database.transaction() as db:
        attempt, examiner = db.get(Attempt, attempt_id), find_user(db, "examiner_nj01")
        delivery.pause_attempt(db, attempt, examiner, "x", t0 + timedelta(minutes=1))
        receipt = delivery.force_submit(db, attempt, examiner, t0 + timedelta(minutes=5))
        assert receipt["answers"] == 0 and attempt.submit_kind.value == "force_submitted"
        assert all(p.resumed_at is not None for p in attempt.own_pauses)   # no pause left open
        with pytest.raises(UserError):
            delivery.force_submit(db, attempt, examiner, t0 + timedelta(minutes=6))
        delivery.void_attempt(db, attempt, examiner, "替考", t0 + timedelta(minutes=7))
        assert delivery.clock(attempt, t0 + timedelta(minutes=8)).phase is Phase.voided
    with database.session(write=False) as db:
        actions = db.execute(select(AuditEvent.action).order_by(AuditEvent.seq)).scalars().all()
    assert actions[-3:] == ["attempt_paused", "attempt_force_submitted", "attempt_voided"]


@pytest.mark.parametrize("tier, theory, practical, voided", [
    ("warning", 0, 0, False),
    ("continued_after_end", 10, 10, False),      # −10 points of 100 theory, −10 % practical
    ("void_subject", 0, 0, True),
    ("void_all", 0, 0, True),
])
def test_misconduct_records_the_tiers_sanction(database, tier, theory, practical, voided):
    t0 = utcnow()
    _, attempt_id, _ = started_attempt(database, t0)
    with database.transaction() as db:
        attempt, examiner = db.get(Attempt, attempt_id), find_user(db, "examiner_nj01")
        record = monitoring.record_misconduct(db, attempt, tier, "终考信号后继续答题", {"notes": "两名考评员目睹"},
                                              examiner, t0 + timedelta(minutes=3))
        assert (record.theory_points_deducted, record.practical_percent_deducted) == (theory, practical)
        assert (attempt.voided_at is not None) is voided
        year = attempt.roster_entry.exam_session.scheduled_start_at.year
        assert record.barred_year == (year if tier == "void_all" else None)
        assert monitoring.sanctions_for(db, attempt) == []          # a draft is not applied yet
        monitoring.sign_misconduct(db, record, examiner, t0 + timedelta(minutes=4))
        assert [s["theory_points"] for s in monitoring.sanctions_for(db, attempt)] == [theory]


def test_misconduct_statement_signature_and_countersignature_in_order(database):
    t0 = utcnow()
    _, attempt_id, _ = started_attempt(database, t0)
    with database.transaction() as db:
        attempt, examiner = db.get(Attempt, attempt_id), find_user(db, "examiner_nj01")
        supervisor = find_user(db, "supervisor_nj")
        record = monitoring.record_misconduct(db, attempt, "warning", "交头接耳", {"event_ids": [1, 2]}, examiner, t0)
        with pytest.raises(UserError, match="monitor.not_signed"):
            monitoring.countersign_misconduct(db, record, supervisor, t0)
        with pytest.raises(UserError):
            monitoring.record_misconduct(db, attempt, "warning", "x", {"photo": "a.png"}, examiner, t0)  # unknown key
        monitoring.record_statement(db, record, "我只是借橡皮", examiner, t0)
        monitoring.sign_misconduct(db, record, examiner, t0)
        assert record.status == "signed" and len(record.content_sha256) == 64
        with pytest.raises(UserError, match="monitor.already_signed"):
            monitoring.record_statement(db, record, "改口", examiner, t0)
        record.description = "changed behind the signature"
        with pytest.raises(UserError, match="monitor.changed_after_signing"):
            monitoring.countersign_misconduct(db, record, supervisor, t0)
        record.description = "交头接耳"
        monitoring.countersign_misconduct(db, record, supervisor, t0)
        assert record.status == "countersigned"


def test_the_session_report_counts_attendance_and_is_signed_then_countersigned(database):
    t0 = utcnow()
    session_id, attempt_id, _ = started_attempt(database, t0)
    with database.transaction() as db:
        session, examiner = db.get(ExamSession, session_id), find_user(db, "examiner_nj01")
        supervisor = find_user(db, "supervisor_nj")
        with pytest.raises(UserError):
            monitoring.generate_report(db, session, examiner, t0)           # not before the end
        attempt = db.get(Attempt, attempt_id)
        monitoring.report_incident(db, session, "technical", "3 号机蓝屏", examiner, t0, attempt)
        monitoring.report_incident(db, session, "environment", "施工噪音", examiner, t0)
        delivery.adjust_time(db, attempt, 600, delivery.AdjustmentKind.incident, "蓝屏补时", examiner, t0)
        monitoring.record_misconduct(db, attempt, "warning", "交头接耳", {}, examiner, t0)
        monitoring.annotate(db, session, "秩序良好", supervisor, t0)
        delivery.end_session(db, session, examiner, t0 + timedelta(minutes=100))
        report = monitoring.generate_report(db, session, examiner, t0 + timedelta(minutes=101))
        content = json.loads(report.content)
        registered = len(session.roster)
        # one candidate started (and was force-submitted at the end); everyone else is absent
        assert content["attendance"] == {"registered": registered, "present": 1, "absent": registered - 1,
                                         "voided": 0, "submitted": 0, "force_submitted": 1, "expired": 0}
        assert [i["text"] for i in content["technical_faults"]] == ["3 号机蓝屏"]
        assert [i["text"] for i in content["incidents"]] == ["施工噪音"]
        assert content["time_adjustments"][0]["seconds"] == 600 and content["annotations"] == ["秩序良好"]
        assert content["misconduct"][0]["tier"] == "warning"
        with pytest.raises(UserError, match="monitor.not_signed"):
            monitoring.countersign_report(db, session, supervisor, t0)
        monitoring.sign_report(db, session, examiner, t0 + timedelta(minutes=102))
        with pytest.raises(UserError, match="monitor.already_signed"):
            monitoring.generate_report(db, session, examiner, t0 + timedelta(minutes=103))
        assert monitoring.countersign_report(db, session, supervisor, t0).status == "countersigned"


# ---- routes --------------------------------------------------------------------------------------------------

def test_dashboard_shows_progress_and_signals_but_never_answers(browsers, database, session_id):
    examiner = browsers("examiner_nj01")
    pin = open_and_start(examiner, session_id)
    candidate, attempt_id = checked_in(browsers, database, session_id, 1, pin)
    for seq, (item, value) in enumerate([("q1", "秘密答案"), ("q2", None), ("q3", "B")], start=1):
        candidate.post_json(f"/api/attempts/{attempt_id}/saves", save_op(seq, item, value))
    candidate.post_json(f"/api/attempts/{attempt_id}/signals", {"kind": "paste"})
    snapshot = examiner.get(f"/api/sessions/{session_id}/monitor")
    tile = next(t for t in snapshot.json["tiles"] if t["attempt"])
    assert tile["attempt"]["answered"] == 2                   # q2 was cleared: 2 of the 3 saved items hold an answer
    assert tile["attempt"]["signals"] == {"paste": 1} and tile["attempt"]["last_saved_ms"] is not None
    detail = examiner.get(f"/api/attempts/{attempt_id}/monitor")
    assert [(i["item_id"], i["answered"]) for i in detail.json["items"]] == [("q1", True), ("q2", False), ("q3", True)]
    for response in (snapshot, detail):
        assert "秘密答案" not in response.get_data(as_text=True)
    assert candidate.get(f"/api/sessions/{session_id}/monitor").status_code == 403
    assert browsers("examiner_sz01").get(f"/api/sessions/{session_id}/monitor").status_code == 403


def test_a_supervisor_can_watch_but_cannot_act(browsers, database, session_id):
    examiner = browsers("examiner_nj01")
    pin = open_and_start(examiner, session_id)
    _, attempt_id = checked_in(browsers, database, session_id, 1, pin)
    entry_id = examiner.get(f"/api/sessions/{session_id}/monitor").json["tiles"][1]["roster_entry_id"]
    supervisor = browsers("supervisor_nj")
    assert supervisor.get(f"/api/sessions/{session_id}/monitor").status_code == 200
    assert supervisor.get(f"/api/attempts/{attempt_id}/monitor").status_code == 200
    actions = [(f"/api/sessions/{session_id}/announcements", {"text": "x"}),
               (f"/api/sessions/{session_id}/resync", {}),
               (f"/api/roster/{entry_id}/late-start", {"reason": "x"}),
               (f"/api/attempts/{attempt_id}/pause", {"reason": "x"}), (f"/api/attempts/{attempt_id}/resume", {}),
               (f"/api/attempts/{attempt_id}/force-submit", {}), (f"/api/attempts/{attempt_id}/void", {"reason": "x"}),
               (f"/api/sessions/{session_id}/incidents", {"category": "other", "description": "x"}),
               (f"/api/attempts/{attempt_id}/misconduct", {"tier": "warning", "description": "x"}),
               (f"/api/sessions/{session_id}/report", {}), (f"/api/sessions/{session_id}/report/sign", {}),
               (f"/api/attempts/{attempt_id}/time", {"seconds": 60, "kind": "incident", "reason": "x"}),
               (f"/api/sessions/{session_id}/pause", {"reason": "x"}), (f"/api/sessions/{session_id}/end", {})]
    for path, body in actions:
        assert supervisor.post_json(path, body).status_code == 403, path
    assert supervisor.post_json(f"/api/sessions/{session_id}/annotations", {"text": "巡视正常"}).status_code == 200
    with database.session(write=False) as db:
        assert db.get(Attempt, attempt_id).submitted_at is None and db.get(Attempt, attempt_id).voided_at is None
    # the examiner may do the same things
    assert examiner.post_json(f"/api/roster/{entry_id}/late-start", {"reason": "交通堵塞"}).status_code == 200
    assert examiner.post_json(f"/api/attempts/{attempt_id}/pause", {"reason": "x"}).status_code == 200
    assert examiner.post_json(f"/api/attempts/{attempt_id}/resume").status_code == 200
    misconduct = examiner.post_json(f"/api/attempts/{attempt_id}/misconduct",
                                    {"tier": "continued_after_end", "description": "x", "evidence": {"notes": "n"}})
    assert misconduct.json["sanction"]["theory_points"] == 10
    record_id = misconduct.json["id"]
    assert supervisor.post_json(f"/api/misconduct/{record_id}/sign").status_code == 403
    assert examiner.post_json(f"/api/misconduct/{record_id}/sign").status_code == 200
    assert examiner.post_json(f"/api/misconduct/{record_id}/countersign").status_code == 403
    assert supervisor.post_json(f"/api/misconduct/{record_id}/countersign").json["status"] == "countersigned"
    assert examiner.post_json(f"/api/attempts/{attempt_id}/force-submit").json["answers"] == 0
    assert examiner.get(f"/api/sessions/{session_id}/monitor").json["tiles"][0]["attempt"]["phase"] == "submitted"


def test_pages_render_for_their_roles(browsers, database, session_id):
    supervisor = browsers("supervisor_nj")
    page = supervisor.get("/monitor")
    assert page.status_code == 200 and f"/sessions/{session_id}" in page.get_data(as_text=True)
    assert browsers("examiner_nj01").get("/monitor").status_code == 403
    assert supervisor.get(f"/sessions/{session_id}/report").status_code == 200
    dashboard = supervisor.get(f"/sessions/{session_id}").get_data(as_text=True)
    assert 'data-can-act="0"' in dashboard and 'data-can-supervise="1"' in dashboard
    assert 'id="announce-room"' not in dashboard
    examiner = browsers("examiner_nj01")
    open_and_start(examiner, session_id)
    examiner.post_json(f"/api/sessions/{session_id}/incidents", {"category": "technical", "description": "交换机掉电"})
    assert examiner.post_json(f"/api/sessions/{session_id}/report").status_code == 409     # still running
    examiner.post_json(f"/api/sessions/{session_id}/end")
    assert examiner.post_json(f"/api/sessions/{session_id}/report").json["status"] == "generated"
    assert examiner.post_json(f"/api/sessions/{session_id}/report/sign").json["status"] == "signed"
    assert supervisor.post_json(f"/api/sessions/{session_id}/report/countersign").json["status"] == "countersigned"
    page = supervisor.get(f"/sessions/{session_id}/report").get_data(as_text=True)
    assert "交换机掉电" in page and "countersign" not in page.split('class="actions"')[1]


# ---- Socket.IO ----------------------------------------------------------------------------------------------

def test_heartbeats_and_disconnects_reach_the_dashboard_and_announcements_the_candidate(quiet_app, browsers,
                                                                                       database, session_id):
    examiner = browsers("examiner_nj01")
    pin = open_and_start(examiner, session_id)
    candidate, attempt_id = checked_in(browsers, database, session_id, 1, pin)
    socketio = quiet_app.extensions["socketio"]
    dashboard = socketio.test_client(quiet_app, flask_test_client=examiner.client)
    assert dashboard.emit("monitor_join", {"session_id": session_id}, callback=True) == {"ok": True}
    outsider = socketio.test_client(quiet_app, flask_test_client=browsers("examiner_sz01").client)
    assert outsider.emit("monitor_join", {"session_id": session_id}, callback=True)["ok"] is False
    seat = socketio.test_client(quiet_app, flask_test_client=candidate.client)
    assert seat.emit("monitor_join", {"session_id": session_id}, callback=True)["ok"] is False  # a candidate
    assert seat.emit("heartbeat", {"attempt_id": attempt_id + 99}, callback=True) == {"ok": False}
    assert seat.emit("heartbeat", {"attempt_id": attempt_id, "answered": 3, "total": 10, "saved_ago_ms": 1200,
                                   "evil": "<script>"}, callback=True) == {"ok": True}
    tiles = [e["args"][0] for e in dashboard.get_received() if e["name"] == "tile"]
    assert len(tiles) == 1 and tiles[0]["online"] is True and tiles[0]["answered"] == 3 and "evil" not in tiles[0]
    assert outsider.get_received() == []                       # nothing leaks to a refused dashboard
    examiner.post_json(f"/api/sessions/{session_id}/announcements", {"text": "请检查姓名", "attempt_id": attempt_id})
    told = [e["args"][0] for e in seat.get_received() if e["name"] == "monitor"]
    assert told[0]["kind"] == "announcement" and told[0]["announcement"]["text"] == "请检查姓名"
    assert candidate.get(f"/api/attempts/{attempt_id}/announcements").json["announcements"][0]["text"] == "请检查姓名"
    examiner.post_json(f"/api/attempts/{attempt_id}/pause", {"reason": "x"})
    assert [e["args"][0]["kind"] for e in seat.get_received() if e["name"] == "monitor"] == ["paused"]
    seat.disconnect()
    tiles = [e["args"][0] for e in dashboard.get_received() if e["name"] == "tile"]
    assert tiles[-1]["online"] is False and tiles[-1]["attempt_id"] == attempt_id
    with database.session(write=False) as db:
        assert db.execute(select(MisconductRecord)).first() is None


# ---- two server processes sharing Redis ------------------------------------------------------------------

def test_a_dashboard_sees_a_candidate_connected_to_another_server_process(tmp_path):
    """Two gevent servers over one database and one Redis: the candidate's heartbeat on server B reaches the
    dashboard on server A."""
    import asyncio
    import os
    import subprocess

    redis_url = os.environ.get("EXAM_REDIS_URL") or "redis://127.0.0.1:6379/0"
    try:
        import redis
        redis.Redis.from_url(redis_url, socket_connect_timeout=1).ping()
    except Exception:                                     # noqa: BLE001 - any failure means: no Redis here
        pytest.skip("no Redis")
    from benchmarks.loadtest import Candidate, free_port, prepare, wait_until_up
    from benchmarks.monitor_latency import EXAMCTL, dashboard

    url = f"sqlite:///{tmp_path}/two.db"
    session_id, pin, people = prepare(url, 1, PAPER_KEY)
    env = {**os.environ, "EXAM_DATABASE_URL": url, "EXAM_INSTANCE_PATH": str(tmp_path), "EXAM_ASYNC_MODE": "gevent",
           "EXAM_PAPER_KEY": PAPER_KEY.hex(), "EXAM_SECRET_KEY": "two", "EXAM_REDIS_URL": redis_url}
    ports = [free_port(), free_port()]
    servers = [subprocess.Popen([str(EXAMCTL), "serve", "--port", str(p)], env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL) for p in ports]

    async def scenario():
        import aiohttp

        sent, latencies = {}, []
        http, watcher = await dashboard(f"http://127.0.0.1:{ports[0]}", session_id, sent, latencies)
        candidate = Candidate(f"http://127.0.0.1:{ports[1]}", *people[0], pin)
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
            await candidate.check_in(session)
            await candidate.start()
            for answered in (1, 2, 3):
                sent[(candidate.attempt, answered)] = asyncio.get_running_loop().time()
                await candidate.sio.emit("heartbeat", {"attempt_id": candidate.attempt, "answered": answered})
                await asyncio.sleep(0.3)
            await asyncio.sleep(1)
            await candidate.sio.disconnect()
        await watcher.disconnect()
        await http.close()
        return sent, latencies

    try:
        for port in ports:
            wait_until_up(port)
        sent, latencies = asyncio.run(scenario())
    finally:
        for server in servers:
            server.terminate()
            server.wait(10)
    assert sent == {} and len(latencies) == 3             # every heartbeat crossed from server B to server A


def test_a_practical_tile_shows_machine_activity_from_the_trace(browsers, quiet_app, database):
    from tests.server.test_practical import OPENING, candidate_at, op, send, start_lathe_session

    session_id, pin = start_lathe_session(quiet_app, database)
    candidate, attempt_id = candidate_at(quiet_app, database, session_id, 1, pin)
    assert all(a["ok"] for a in send(candidate, attempt_id, [op(seq, type_, payload) for seq, (type_, payload)
                                                             in enumerate(OPENING[:4], start=1)]).json)
    examiner = browsers("examiner_nj01")
    tile = next(t for t in examiner.get(f"/api/sessions/{session_id}/monitor").json["tiles"] if t["attempt"])
    assert tile["attempt"]["machine"]["events"] == 4                     # power, mode, two reference returns
    detail = examiner.get(f"/api/attempts/{attempt_id}/monitor").json
    assert detail["practical"] is True
    assert [e["type"] for e in detail["machine_events"]] == ["power", "mode", "ref_return", "ref_return"]
