"""The public leaderboard under load: 2,000 contestants, 500 viewers on the projection page's socket.

    python -m benchmarks.board_load [--entries 2000] [--viewers 500] [--changes 20]

Part 1 (in this process): the read model's cost per score change for a 2,000-entry board — the ranking work
is one bisect move and one renumbering, whatever the number of viewers (viewers only cost the broadcast).
Part 2 (a real gevent server in a child process, SQLite in a temporary folder): the viewers join the public
room of /board and load the JSON feed once; an examiner then records score changes through the API, and each
viewer's arrival time of the matching `board` diff is measured from the moment the request was sent.
The target: p95 ≤ 2 s to every viewer. The last line is the summary.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from fractions import Fraction
from pathlib import Path

from benchmarks.loadtest import cpu_s, free_port, percentile, wait_until_up

ROUNDS = [{"key": "theory", "name": "理论", "part": "theory", "weight_percent": 30},
          {"key": "turning", "name": "实操", "part": "practical", "weight_percent": 70}]
SERVE = ("from gevent import monkey; monkey.patch_all(); "
         "from benchmarks.board_load import serve; serve({!r}, {})")


def ranking_cost(entries: int, changes: int = 2000) -> tuple[float, float]:
    """Mean and p95 microseconds for one score change on a board of `entries` (no viewers involved)."""
    from datetime import datetime, timezone

    from exam_server.leaderboard.board import Board, EntryInfo
    from exam_server.leaderboard.freeze import FreezeState, ScoreEvent
    from exam_server.leaderboard.ranking import Round, Rules

    rng = random.Random(12)
    info = {i: EntryInfo(f"B{i:04d}", f"选手{i:04d}", f"代表队{i % 20}", "#336699") for i in range(1, entries + 1)}
    rules = Rules(tuple(Round(r["key"], r["part"], r["weight_percent"]) for r in ROUNDS))
    at = datetime(2026, 11, 26, tzinfo=timezone.utc)
    board = Board(1, rules, info, FreezeState(None), ROUNDS)
    seq = 0
    for entry_id in info:          # a full board first: everyone has a theory score
        seq += 1
        board.apply([ScoreEvent(seq, entry_id, "theory", Fraction(rng.randint(0, 100)), at)], board.state)
    times = []
    for _ in range(changes):
        seq += 1
        event = ScoreEvent(seq, rng.randint(1, entries), rng.choice(("theory", "turning")),
                           Fraction(rng.randint(0, 1000), 10), at)
        started = time.perf_counter()
        board.apply([event], board.state)
        times.append(time.perf_counter() - started)
    return sum(times) / len(times) * 1e6, percentile(times, 95) * 1000


def prepare(url: str, entries: int) -> tuple[int, list[int]]:
    """The demo province plus a running competition (no freeze) with `entries` contestants in 20 delegations."""
    from sqlalchemy import select

    from exam_server import competitions, demo
    from exam_server.accounts import find_user
    from exam_server.db import Database
    from exam_server.models import Organisation, utcnow
    from exam_server.schema import upgrade

    upgrade(url)
    database = Database(url)
    now = utcnow()
    with database.transaction() as db:
        demo.load(db, now, os.urandom(32))
        nanjing = db.execute(select(Organisation).where(Organisation.code == "JS-NJ")).scalar_one()
        admin, chief = find_user(db, "nj_admin"), find_user(db, "examiner_nj01")
        competition = competitions.create_competition(
            db, nanjing, "负载测试竞赛", starts_at=now + timedelta(minutes=1), ends_at=now + timedelta(hours=3),
            freeze_minutes=0, rounds=ROUNDS, chief_examiner=chief, actor=admin, now=now)
        delegations = [competitions.add_delegation(db, competition, f"代表队{i:02d}", f"#{i * 12:02x}6699", admin, now)
                       for i in range(20)]
        ids = [competitions.register_entry(db, delegations[i % 20], f"B{i:04d}", f"选手{i:04d}", admin, now).id
               for i in range(entries)]
        competition.starts_at = now - timedelta(minutes=5)
        competition_id = competition.id
    database.dispose()
    return competition_id, ids


def serve(url: str, port: int) -> None:
    """Run in a fresh interpreter that patched everything first (see SERVE)."""
    from exam_server import create_app

    app = create_app({"database_url": url, "async_mode": "gevent", "testing": False})
    app.extensions["socketio"].run(app, host="127.0.0.1", port=port, allow_unsafe_werkzeug=True, log_output=False)


class Viewer:
    def __init__(self, base: str, competition_id: int):
        self.base, self.competition_id = base, competition_id
        self.diffs: list[tuple[float, list]] = []     # (arrival time, entry ids whose scores the diff carries)
        self.dropped = False                           # the socket closed (a browser would reconnect and reload)

    async def join(self, http) -> None:
        import socketio

        self.sio = socketio.AsyncClient(reconnection=False)
        self.sio.on("board", self.on_board, namespace="/board")
        self.sio.on("disconnect", self.on_drop, namespace="/board")
        await self.sio.connect(self.base, namespaces=["/board"], transports=["websocket"], wait_timeout=60)
        ack = await self.sio.call("board_join", {"competition_id": self.competition_id}, namespace="/board",
                                  timeout=60)
        assert ack["ok"], ack
        async with http.get(f"{self.base}/api/competitions/{self.competition_id}/board") as response:
            assert len((await response.json())["rows"]) > 0

    async def on_drop(self, *_) -> None:
        self.dropped = True

    async def on_board(self, diff) -> None:
        self.diffs.append((time.monotonic(), [row["id"] for row in diff["rows"]]))


async def watch(base: str, competition_id: int, viewers: int, ready, stop) -> list:
    """One viewer process: join, report ready, wait for the end, return every viewer's diffs."""
    import aiohttp

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as http:
        crowd = [Viewer(base, competition_id) for _ in range(viewers)]
        for batch in range(0, viewers, 25):
            await asyncio.gather(*(v.join(http) for v in crowd[batch:batch + 25]))
        ready.release()
        while not stop.is_set():
            await asyncio.sleep(0.2)
        dropped = [v.dropped for v in crowd]
        await asyncio.gather(*(v.sio.disconnect() for v in crowd), return_exceptions=True)
    return [(v.diffs, gone) for v, gone in zip(crowd, dropped)]


def viewer_process(base, competition_id, viewers, ready, stop, results) -> None:
    results.put(asyncio.run(watch(base, competition_id, viewers, ready, stop)))


def first_arrival(diffs: list, entry_id: int, sent: float):
    return next((at for at, ids in diffs if at >= sent and entry_id in ids), None)


async def drive(base: str, competition_id: int, ids: list[int], changes: int, pid: int) -> tuple[dict, float]:
    """The examiner records `changes` scores through the API, one every 0.5 s; their send times."""
    import aiohttp

    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True),
                                     timeout=aiohttp.ClientTimeout(total=60)) as examiner:
        token = (await (await examiner.get(f"{base}/api/csrf")).json())["csrf_token"]
        await examiner.post(f"{base}/login", data={"username": "examiner_nj01", "password": "Demo@2026",
                                                   "csrf_token": token}, allow_redirects=False)
        token = (await (await examiner.get(f"{base}/api/csrf")).json())["csrf_token"]
        rng = random.Random(5)
        sent: dict[int, float] = {}
        cpu_before = cpu_s(pid)
        for entry_id in rng.sample(ids, changes):
            sent[entry_id] = time.monotonic()
            async with examiner.post(f"{base}/api/competitions/{competition_id}/scores",
                                     headers={"X-CSRF-Token": token},
                                     json={"entry_id": entry_id, "round": "turning",
                                           "score": str(rng.randint(60, 100))}) as response:
                assert response.status == 200, await response.text()
            await asyncio.sleep(0.5)
        await asyncio.sleep(3)
        return sent, (cpu_s(pid) - cpu_before) / changes * 1000


def run(base: str, competition_id: int, ids: list[int], viewers: int, changes: int, pid: int,
        processes: int) -> dict:
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    ready, stop, results = context.Semaphore(0), context.Event(), context.Queue()
    shares = [viewers // processes + (i < viewers % processes) for i in range(processes)]
    workers = [context.Process(target=viewer_process, args=(base, competition_id, n, ready, stop, results))
               for n in shares]
    started = time.monotonic()
    for worker in workers:
        worker.start()
    for _ in workers:
        if not ready.acquire(timeout=300):
            raise RuntimeError("viewers did not join")
    joined_s = time.monotonic() - started
    sent, cpu_ms = asyncio.run(drive(base, competition_id, ids, changes, pid))
    stop.set()
    crowd = [diffs for _ in workers for diffs in results.get(timeout=120)]
    for worker in workers:
        worker.join(30)
    latencies, missing, by_change = [], 0, {entry_id: [] for entry_id in sent}
    dropped = sum(gone for _, gone in crowd)
    for diffs, _ in crowd:
        for entry_id, at in sent.items():
            arrived = first_arrival(diffs, entry_id, at)
            if arrived is None:
                missing += 1
            else:
                latencies.append(arrived - at)
                by_change[entry_id].append(arrived - at)
    print("# p50 per change, in order (ms):", [round(percentile(v, 50)) for v in by_change.values()],
          file=sys.stderr)
    return {"latencies": latencies, "missing": missing, "joined_s": joined_s, "cpu_ms": cpu_ms, "dropped": dropped}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=2000)
    parser.add_argument("--viewers", type=int, default=500)
    parser.add_argument("--changes", type=int, default=20)
    parser.add_argument("--processes", type=int, default=4, help="viewer processes (one loop each)")
    args = parser.parse_args(argv if argv is not None else [])
    mean_us, p95_us = ranking_cost(args.entries)
    print(f"ranking per change, {args.entries} entries: mean {mean_us:.0f} µs, p95 {p95_us:.0f} µs "
          "(no viewer involved: one broadcast per change)")
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'board.db'}"
        competition_id, ids = prepare(url, args.entries)
        port = free_port()
        env = {**os.environ, "EXAM_SECRET_KEY": "board-load", "EXAM_REDIS_URL": "",
               "EXAM_PAPER_KEY": os.urandom(32).hex()}
        server = subprocess.Popen([sys.executable, "-c", SERVE.format(url, port)], env=env,
                                  cwd=Path(__file__).resolve().parent.parent,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_until_up(port)
            result = run(f"http://127.0.0.1:{port}", competition_id, ids, args.viewers, args.changes, server.pid,
                         args.processes)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(10)
    lat = result["latencies"]
    print(f"{args.viewers} viewers joined in {result['joined_s']:.1f} s; server CPU per change "
          f"{result['cpu_ms']:.0f} ms (the request, the catch-up and the fan-out; idle ticks included); "
          f"deliveries {len(lat)}, missing {result['missing']}, viewers whose socket dropped {result['dropped']}; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"board_load: {args.entries} entries, {args.viewers} viewers, {args.changes} changes: "
          f"p50 {percentile(lat, 50):.0f} ms, p95 {percentile(lat, 95):.0f} ms, max {percentile(lat, 100):.0f} ms "
          f"(target p95 ≤ 2000 ms)")
    return 0 if result["missing"] == 0 and percentile(lat, 95) <= 2000 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
