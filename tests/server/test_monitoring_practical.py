"""Practical seats on the dashboard: the tile's machine fields (mode, run status, program and line, alarms,
crashes) come from the server's machine session after each applied event, never from the browser; a detail view
mirrors one candidate's machine read-only (a snapshot, then every applied update in order)."""
from __future__ import annotations

import inspect

import pytest

from exam_server import monitor_events, practical_events
from tests.server.conftest import Browser
from tests.server.test_practical import candidate_at, op, start_lathe_session


@pytest.fixture
def papp(socket_app, monkeypatch):
    """The app, with the practical event path calling monitor_events.machine_applied after each operation (the
    one line practical_events.handle_machine carries once P3 adds it; wired here until then)."""
    if "machine_applied" not in inspect.getsource(practical_events):
        handle = practical_events.handle_machine

        def with_hook(app, user_id, payload):
            ack = handle(app, user_id, payload)
            monitor_events.machine_applied(app, payload, ack)
            return ack

        monkeypatch.setattr(practical_events, "handle_machine", with_hook)
    return socket_app


# The demo lathe task, from power-on: PS0224 (automatic operation before reference return), an MDI run, the X
# soft limit (OT0501) and a rapid jog into the bar (a crash, EX1100). Each row: the event, and what the tile shows
# after it when that changed (None: the tile stays as it was, so nothing is sent).
BASE = {"power": True, "mode": "JOG", "status": "idle", "program": None, "running": False, "line": 0, "alarms": [],
        "crashes": 0}
SCRIPT = [
    ("power", {"on": True}, {}),
    ("mode", {"mode": "MDI"}, {"mode": "MDI"}),
    ("mdi", {"text": "G00U-2."}, None),
    ("cycle_start", {}, {"mode": "MDI", "alarms": ["PS0224"]}),
    ("reset", {}, {"mode": "MDI"}),
    ("mode", {"mode": "REF"}, {"mode": "REF"}),
    ("ref_return", {"axis": "X"}, None),
    ("ref_return", {"axis": "Z"}, None),
    ("load_stock", {"stick_out": 70}, None),
    ("chuck", {"closed": True}, None),
    ("mode", {"mode": "MDI"}, {"mode": "MDI"}),
    ("mdi", {"text": "G01 W-20. F100;\nG01 W-20.;"}, None),
    ("cycle_start", {}, {"mode": "MDI", "status": "waiting", "program": 0, "running": True, "line": 1}),
    ("reset", {}, {"mode": "MDI"}),
    ("mode", {"mode": "JOG"}, {}),
    ("spindle", {"command": "cw", "rpm": 1000}, None),
    ("override", {"which": "jog_feed", "value": 600}, None),
    ("jog", {"axis": "X", "direction": -1, "ms": 12000}, {"alarms": ["OT0501"]}),
    ("reset", {}, {}),
    ("jog", {"axis": "Z", "direction": -1, "ms": 700, "rapid": True}, {"alarms": ["EX1100"], "crashes": 1}),
]


def received(client, name: str) -> list[dict]:
    return [e["args"][0] for e in client.get_received() if e["name"] == name]


def test_a_practical_tile_follows_the_servers_machine_session(papp, database):
    session_id, pin = start_lathe_session(papp, database)
    candidate, attempt_id = candidate_at(papp, database, session_id, 1, pin)
    socketio = papp.extensions["socketio"]
    examiner = Browser(papp.test_client())
    examiner.login("examiner_nj01")
    dashboard = socketio.test_client(papp, flask_test_client=examiner.client)
    assert dashboard.emit("monitor_join", {"session_id": session_id}, callback=True) == {"ok": True}
    seat = socketio.test_client(papp, flask_test_client=candidate.client)

    expected = []
    for seq, (type_, payload, shows) in enumerate(SCRIPT, start=1):
        sent = {**op(seq, type_, payload), "attempt_id": attempt_id}
        ack = seat.emit("machine", sent, callback=True)
        assert ack["ok"] is True and ack["update"]["ok"] is True, (type_, ack)
        if shows is not None:
            expected.append({**BASE, **shows})
    tiles = received(dashboard, "tile")
    assert [t["machine"] for t in tiles] == expected
    assert all(t["attempt_id"] == attempt_id and t["online"] is True for t in tiles)
    # the outbox resending its last operation changes nothing: no tile
    assert seat.emit("machine", sent, callback=True)["duplicate"] is True and received(dashboard, "tile") == []
    # the browser cannot forge the machine fields: a heartbeat carries only its own numbers
    seat.emit("heartbeat", {"attempt_id": attempt_id, "pending": 0, "machine": {"mode": "MEM", "crashes": 0}})
    assert "machine" not in received(dashboard, "tile")[0]
    # the snapshot holds the same fields for a dashboard opened now
    tile = next(t for t in examiner.get(f"/api/sessions/{session_id}/monitor").json["tiles"] if t["attempt"])
    assert tile["attempt"]["machine"]["events"] == len(SCRIPT)
    assert {k: tile["attempt"]["machine"][k] for k in BASE} == expected[-1]
    for client in (seat, dashboard):
        client.disconnect()


def test_the_detail_view_mirrors_one_machine_read_only(papp, database):
    session_id, pin = start_lathe_session(papp, database)
    candidate, attempt_id = candidate_at(papp, database, session_id, 1, pin)
    socketio = papp.extensions["socketio"]
    seat = socketio.test_client(papp, flask_test_client=candidate.client)
    for seq, (type_, payload, _) in enumerate(SCRIPT[:4], start=1):
        seat.emit("machine", {**op(seq, type_, payload), "attempt_id": attempt_id}, callback=True)

    supervisor = Browser(papp.test_client())
    supervisor.login("supervisor_nj")
    outsider = Browser(papp.test_client())
    outsider.login("examiner_sz01")
    snapshot = supervisor.get(f"/api/attempts/{attempt_id}/machine/mirror").json
    assert snapshot["last_seq"] == 4 and snapshot["machine_type"] == "lathe"
    assert snapshot["view"]["mode"] == "MDI" and [a["code"] for a in snapshot["view"]["alarms"]] == ["PS0224"]
    assert outsider.get(f"/api/attempts/{attempt_id}/machine/mirror").status_code == 403
    assert candidate.get(f"/api/attempts/{attempt_id}/machine/mirror").status_code == 403
    assert supervisor.post_json(f"/api/attempts/{attempt_id}/machine/mirror").status_code == 405

    watcher = socketio.test_client(papp, flask_test_client=supervisor.client)
    assert watcher.emit("monitor_mirror", {"attempt_id": attempt_id}, callback=True) == {"ok": True}
    spy = socketio.test_client(papp, flask_test_client=outsider.client)
    assert spy.emit("monitor_mirror", {"attempt_id": attempt_id}, callback=True)["ok"] is False
    assert seat.emit("monitor_mirror", {"attempt_id": attempt_id}, callback=True)["ok"] is False   # a candidate
    for seq, (type_, payload, _) in enumerate(SCRIPT[4:6], start=5):
        seat.emit("machine", {**op(seq, type_, payload), "attempt_id": attempt_id}, callback=True)
    mirrored = received(watcher, "mirror")
    assert [(m["seq"], m["event"]["type"], m["update"]["mode"]) for m in mirrored] == [(5, "reset", "MDI"),
                                                                                       (6, "mode", "REF")]
    assert mirrored[0]["update"]["alarms"] == [] and received(spy, "mirror") == [] and received(seat, "mirror") == []
    # a mirror only watches: the machine event sent from the watcher's socket is not its to send
    refused = watcher.emit("machine", {**op(7, "reset"), "attempt_id": attempt_id}, callback=True)
    assert refused["ok"] is False and refused["error"]["code"] == "error.not_found"
    # stop watching: nothing more arrives
    assert watcher.emit("monitor_mirror", {"attempt_id": None}, callback=True) == {"ok": True}
    seat.emit("machine", {**op(7, "reset"), "attempt_id": attempt_id}, callback=True)
    assert received(watcher, "mirror") == []
    for client in (seat, watcher, spy):
        client.disconnect()
