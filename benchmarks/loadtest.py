"""`make loadtest`: a swarm of Socket.IO candidates against a real `examctl serve` process on loopback.

Candidates check in at a staggered pace (ticket, ID number, room PIN), then all start at once and save their
first answer (the synchronized start), then each saves every ~5 s with exponential jitter for the steady
phase, and finally all submit at once. Every acknowledged operation is reconciled against the database at
the end. Latency is from the first send of an operation to its acknowledgement, retries included.

    python -m benchmarks.loadtest [--candidates 1000] [--seconds 60] [--kill-after S]

With --kill-after the server is killed with SIGKILL S seconds into the steady phase and started again; the
candidates reconnect and resend, and the reconciliation shows whether any acknowledged save was lost.

SQLite in a temporary folder by default; EXAM_DATABASE_URL selects a PostgreSQL server (a scratch database
is created on it and dropped). The last line is the summary.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

EXAMCTL = Path(sys.executable).with_name("examctl")
GIVE_UP_S = 60.0
HTTP_TIMEOUT_S = 60.0


@contextlib.contextmanager
def phase(name: str):
    """Log each phase's duration to stderr, so a slow or stuck phase shows where it is."""
    started = time.perf_counter()
    print(f"# {name}…", file=sys.stderr, flush=True)
    yield
    print(f"# {name}: {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)


# ---- the exam: N candidates in one running session ------------------------------------------------------

def prepare(url: str, candidates: int, paper_key: bytes) -> tuple[int, str, list[tuple[str, str]]]:
    """Migrate, load the demo province, add a session for `candidates` people and start it.
    Returns the session id, its PIN and each candidate's (ticket, ID number)."""
    from sqlalchemy import select

    from exam_server import delivery, demo, papers
    from exam_server.accounts import find_user
    from exam_server.db import Database
    from exam_server.models import (
        ExamPart,
        ExamSession,
        Organisation,
        Role,
        RoleAssignment,
        RosterEntry,
        User,
        utcnow,
    )
    from exam_server.schema import upgrade

    upgrade(url)
    database = Database(url)
    now = utcnow()
    rng = random.Random(7)
    with database.transaction() as db:
        demo.load(db, now, paper_key)
        station = db.execute(select(Organisation).where(Organisation.code == "JS-NJ-01")).scalar_one()
        template = db.execute(select(ExamSession)).scalars().first()
        session = ExamSession(exam_id=template.exam_id, part=ExamPart.theory, organisation=station, room="负载测试",
                              scheduled_start_at=now, duration_s=3 * 3600, created_at=now)
        db.add(session)
        password_hash = find_user(db, "ks001").password_hash
        people = []
        for n in range(candidates):
            id_number = demo.make_id_number(rng, "320106", female=False)
            user = User(username=f"load{n:05d}", display_name=f"考生{n:05d}", id_number=id_number,
                        password_hash=password_hash, organisation=station, created_at=now)
            user.role_assignments = [RoleAssignment(role=Role.candidate, organisation=station, granted_at=now)]
            ticket = f"LT{n:08d}"
            db.add(RosterEntry(exam_session=session, candidate=user, seat=f"{n:05d}", ticket_number=ticket))
            people.append((ticket, id_number))
        db.flush()
        papers.seal_for_session(db, session, papers.demo_paper(), paper_key, now)
        examiner = find_user(db, "examiner_nj01")
        pin = delivery.open_check_in(db, session, examiner, now)
        delivery.start_session(db, session, examiner, now, paper_key)
        session_id = session.id
    database.dispose()
    return session_id, pin, people


@contextlib.contextmanager
def scratch_database(server_url: str | None):
    """A fresh database on the given PostgreSQL server for the run, dropped afterwards (None: SQLite)."""
    if not server_url:
        yield None
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"loadtest_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def acked_in_database(url: str, op_ids: set[str]) -> int:
    from sqlalchemy import select

    from exam_server.db import Database
    from exam_server.models import SaveOperation

    database = Database(url)
    with database.session(write=False) as db:
        stored = set(db.execute(select(SaveOperation.op_id)).scalars())
    database.dispose()
    return len(op_ids & stored)


# ---- one candidate ------------------------------------------------------------------------------------

class Candidate:
    def __init__(self, base: str, ticket: str, id_number: str, pin: str):
        self.base, self.ticket, self.id_number, self.pin = base, ticket, id_number, pin
        self.client_id = uuid.uuid4().hex
        self.seq = 0
        self.latencies: list[float] = []
        self.burst: list[float] = []
        self.acked: set[str] = set()
        self.errors = 0
        self.abandoned = 0          # saves never acknowledged within GIVE_UP_S (a dropped socket that stayed down)

    async def check_in(self, http) -> None:
        self.http = http
        token = (await (await http.get(f"{self.base}/api/csrf")).json())["csrf_token"]
        headers = {"X-CSRF-Token": token}
        response = await http.post(f"{self.base}/api/check-in", json={
            "ticket_number": self.ticket, "id_number": self.id_number, "pin": self.pin}, headers=headers)
        self.entry = (await response.json())["roster_entry_id"]
        self.csrf = (await (await http.get(f"{self.base}/api/csrf")).json())["csrf_token"]
        self.cookies = "; ".join(f"{c.key}={c.value}" for c in http.cookie_jar)
        import socketio

        # Reconnecting is ours to do (as the browser client does): python-socketio's own reconnection drops the
        # Cookie header, so the server would refuse it.
        self.sio = socketio.AsyncClient(reconnection=False)
        await self.connect()

    async def connect(self) -> None:
        await self.sio.connect(self.base, headers={"Cookie": self.cookies}, transports=["websocket"],
                               wait_timeout=30)

    async def start(self) -> None:
        response = await self.http.post(f"{self.base}/api/roster/{self.entry}/attempt",
                                        json={"client_id": self.client_id}, headers={"X-CSRF-Token": self.csrf})
        self.attempt = (await response.json())["attempt_id"]

    async def save(self, into: list[float]) -> None:
        self.seq += 1
        op = {"op_id": uuid.uuid4().hex, "attempt_id": self.attempt, "seq": self.seq, "client_id": self.client_id,
              "item_id": f"q{rng_item(self.seq):02d}", "value": random.choice("ABCD")}
        started = time.perf_counter()
        while True:                                           # the same operation until acknowledged...
            try:
                ack = await self.sio.call("save", op, timeout=5)
                if ack.get("ok"):
                    break
                self.errors += 1
                return
            except (TimeoutError, socketio_errors()):
                self.errors += 1
                if time.perf_counter() - started > GIVE_UP_S:  # ...but a run must end: count it unacknowledged
                    self.abandoned += 1
                    return
                await asyncio.sleep(0.5)
                if not self.sio.connected:
                    try:
                        await self.connect()
                    except socketio_errors():
                        pass
        into.append(time.perf_counter() - started)
        self.acked.add(op["op_id"])

    async def steady(self, until: float) -> None:
        while True:
            await asyncio.sleep(random.expovariate(1 / 5.0))
            if time.perf_counter() >= until:
                return
            await self.save(self.latencies)

    async def submit(self) -> float:
        started = time.perf_counter()
        response = await self.http.post(f"{self.base}/api/attempts/{self.attempt}/submit",
                                        json={"client_id": self.client_id}, headers={"X-CSRF-Token": self.csrf})
        if response.status != 200:
            self.errors += 1
        return time.perf_counter() - started


def socketio_errors():
    import socketio

    return socketio.exceptions.SocketIOError


def rng_item(seq: int) -> int:
    return 1 + seq % 20


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] * 1000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(port: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=1)
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("examctl serve did not come up")


def cpu_s(pid: int) -> float:
    """User + system CPU seconds the process has used so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class Server:
    """`examctl serve` in a child process, which the test can kill -9 and start again on the same port."""

    def __init__(self, port: int, env: dict):
        self.port, self.env, self.process = port, env, None
        self.log = open(os.environ["LOADTEST_SERVER_LOG"], "w") if "LOADTEST_SERVER_LOG" in os.environ else None

    def start(self) -> None:
        self.process = subprocess.Popen([str(EXAMCTL), "serve", "--port", str(self.port)], env=self.env,
                                        stdout=self.log or subprocess.DEVNULL, stderr=self.log or subprocess.DEVNULL)
        wait_until_up(self.port)

    def kill_and_restart(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)
        self.start()

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(10)


async def kill_later(server: Server, after_s: float) -> None:
    await asyncio.sleep(after_s)
    with phase("kill -9 and restart"):
        await asyncio.to_thread(server.kill_and_restart)


async def swarm(base: str, pin: str, people, seconds: float, server: Server, kill_after: float | None) -> dict:
    import aiohttp

    candidates = [Candidate(base, t, i, pin) for t, i in people]
    timeout = aiohttp.ClientTimeout(total=HTTP_TIMEOUT_S)
    sessions = [aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True), timeout=timeout)
                for _ in candidates]
    try:
        with phase("check-in"):
            for batch in range(0, len(candidates), 25):               # staggered check-in, 25 at a time
                await asyncio.gather(*(c.check_in(s) for c, s in
                                       zip(candidates[batch:batch + 25], sessions[batch:batch + 25])))
        burst: list[float] = []
        with phase("start"):
            await asyncio.gather(*(c.start() for c in candidates))   # everyone starts at once...
        with phase("first save"):
            await asyncio.gather(*(c.save(burst) for c in candidates))  # ...and saves a first answer
        with phase("steady"):
            until = time.perf_counter() + seconds
            killer = [kill_later(server, kill_after)] if kill_after is not None else []
            await asyncio.gather(*(c.steady(until) for c in candidates), *killer)
        memory, server_cpu = rss_mb(server.process.pid), cpu_s(server.process.pid)
        with phase("submit"):
            submits = await asyncio.gather(*(c.submit() for c in candidates))
        with phase("disconnect"):
            await asyncio.gather(*(c.sio.disconnect() for c in candidates))
    finally:
        for s in sessions:
            await s.close()
    steady = [x for c in candidates for x in c.latencies]
    return {"candidates": len(candidates), "steady": steady, "burst": burst, "submits": list(submits),
            "acked": set().union(*(c.acked for c in candidates)), "errors": sum(c.errors for c in candidates),
            "abandoned": sum(c.abandoned for c in candidates),
            "rss": memory, "server_cpu_s": server_cpu}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--kill-after", type=float, metavar="S",
                        help="kill -9 the server S seconds into the steady phase and start it again")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp, scratch_database(os.environ.get("EXAM_DATABASE_URL")) as server_url:
        url = server_url or f"sqlite:///{tmp}/load.db"
        paper_key = os.urandom(32)
        _, pin, people = prepare(url, args.candidates, paper_key)
        port = free_port()
        env = {**os.environ, "EXAM_DATABASE_URL": url, "EXAM_INSTANCE_PATH": tmp, "EXAM_ASYNC_MODE": "gevent",
               "EXAM_PAPER_KEY": paper_key.hex(), "EXAM_SECRET_KEY": "load"}
        server = Server(port, env)
        try:
            server.start()
            result = asyncio.run(swarm(f"http://127.0.0.1:{port}", pin, people, args.seconds, server,
                                       args.kill_after))
        finally:
            server.stop()
        stored = acked_in_database(url, result["acked"])
    saves = len(result["steady"]) + len(result["burst"])
    submits = result["submits"]
    print(f"submit_p50_ms={percentile(submits, 50):.0f} submit_p99_ms={percentile(submits, 99):.0f} "
          f"server_cpu_s={result['server_cpu_s']:.0f} swarm_cpu_s={cpu_s(os.getpid()):.0f}")
    print(f"candidates={result['candidates']} saves={saves} acked={len(result['acked'])} "
          f"lost={len(result['acked']) - stored} p50_ms={percentile(result['steady'], 50):.0f} "
          f"p95_ms={percentile(result['steady'], 95):.0f} p99_ms={percentile(result['steady'], 99):.0f} "
          f"burst_p99_ms={percentile(result['burst'], 99):.0f} errors={result['errors']} "
          f"unacked={result['abandoned']} "
          f"server_rss_mb={result['rss']:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
