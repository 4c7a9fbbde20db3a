"""The scale-out mode: `examctl cluster` runs two gevent servers behind its balancer, sharing the database and
Redis. A candidate checks in, saves over a WebSocket, loses the server their socket is on, and keeps saving
through the other one while the dead one is restarted; nothing acknowledged is lost."""
from __future__ import annotations

import http.cookiejar
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from exam_server.models import Response
from tests.server.conftest import start_demo_session
from tests.server.test_browser_resilience import free_port

EXAMCTL = Path(sys.executable).with_name("examctl")
pytestmark = [pytest.mark.slow, pytest.mark.skipif(not os.environ.get("EXAM_REDIS_URL"),
                                                   reason="the cluster needs Redis (EXAM_REDIS_URL)")]


class Client:
    """A candidate without a browser: urllib with cookies for HTTP, python-socketio for the socket."""

    def __init__(self, base: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.http = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def call(self, method: str, path: str, body=None) -> dict:
        token = json.load(self.http.open(self.base + "/api/csrf"))["csrf_token"]
        request = urllib.request.Request(self.base + path, method=method, data=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json", "X-CSRF-Token": token})
        return json.load(self.http.open(request, timeout=10))

    def cookie_header(self) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in self.jar)


def server_pids(port: int) -> list[int]:
    """The `examctl serve --port <port>` processes, found through /proc."""
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"serve" in argv and str(port).encode() in argv:
            pids.append(int(entry.name))
    return pids


def wait_up(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not come up")


@pytest.fixture
def cluster(database_url, tmp_path):
    port = free_port()
    env = {**os.environ, "EXAM_DATABASE_URL": database_url, "EXAM_INSTANCE_PATH": str(tmp_path),
           "EXAM_SECRET_KEY": "cluster-test", "EXAM_ASYNC_MODE": "gevent"}
    process = subprocess.Popen([str(EXAMCTL), "cluster", "--workers", "2", "--port", str(port)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for p in (port + 1, port + 2, port):
            wait_up(f"http://127.0.0.1:{p}/login")
        yield port
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(15)


def test_a_candidate_keeps_saving_when_the_server_under_their_socket_dies(cluster, database):
    import socketio

    ticket, id_number, pin = start_demo_session(database)
    base = f"http://127.0.0.1:{cluster}"
    candidate = Client(base)
    entry = candidate.call("POST", "/api/check-in", {"ticket_number": ticket, "id_number": id_number, "pin": pin})
    client_id = uuid.uuid4().hex
    attempt_id = candidate.call("POST", f"/api/roster/{entry['roster_entry_id']}/attempt",
                                {"client_id": client_id})["attempt_id"]
    socket = socketio.Client(reconnection=True, reconnection_delay=0.2, reconnection_delay_max=1)
    socket.connect(base, headers={"Cookie": candidate.cookie_header()}, transports=["websocket"])

    def save(seq: int, item: str) -> dict:
        op = {"op_id": uuid.uuid4().hex, "attempt_id": attempt_id, "seq": seq, "client_id": client_id,
              "item_id": item, "value": "B"}
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:               # the client's outbox: the same op until acknowledged
            try:
                ack = socket.call("save", op, timeout=3)
                if ack.get("ok"):
                    return ack
            except (socketio.exceptions.TimeoutError, socketio.exceptions.BadNamespaceError):
                pass
            time.sleep(0.3)
        raise AssertionError(f"save {seq} never acknowledged")

    try:
        assert save(1, "q1")["ok"]
        for n, port in enumerate((cluster + 1, cluster + 2), start=2):   # kill each server in turn
            for pid in server_pids(port):
                os.kill(pid, signal.SIGKILL)
            assert save(n, f"q{n}")["ok"]
            wait_up(f"http://127.0.0.1:{port}/login")                   # the cluster restarted it
    finally:
        socket.disconnect()
    with database.session(write=False) as db:
        stored = {r.item_id: r.seq for r in db.execute(select(Response).where(Response.attempt_id == attempt_id))
                  .scalars()}
    assert stored == {"q1": 1, "q2": 2, "q3": 3}


def test_the_cluster_refuses_long_polling_and_needs_redis(cluster, database_url, tmp_path):
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"http://127.0.0.1:{cluster}/socket.io/?EIO=4&transport=polling", timeout=5)
    assert refused.value.code == 400
    env = {**os.environ, "EXAM_DATABASE_URL": database_url, "EXAM_INSTANCE_PATH": str(tmp_path), "EXAM_REDIS_URL": ""}
    result = subprocess.run([str(EXAMCTL), "cluster", "--port", str(free_port())], env=env, capture_output=True,
                            text=True, timeout=30)
    assert result.returncode == 1 and "EXAM_REDIS_URL" in result.stderr
