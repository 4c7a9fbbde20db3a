"""Candidate event → examiner's dashboard latency, with 500 candidates in one session.

A real gevent server on loopback; every candidate checks in, starts, and sends the exam page's heartbeat every
3 s (with jitter); one examiner's dashboard has joined the session's monitoring room. Latency is from a
heartbeat's send to its `tile` event at the dashboard, both measured in this process.

    python -m benchmarks.monitor_latency [--candidates 500] [--seconds 30]

The last line is the summary; the issue's target is p95 ≤ 1000 ms.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.loadtest import Candidate, free_port, percentile, phase, prepare, wait_until_up

HEARTBEAT_S = 3.0

EXAMCTL = Path(sys.executable).with_name("examctl")


async def dashboard(base: str, session_id: int, sent: dict, latencies: list[float]):
    """The examiner signs in and joins the room; every tile event is matched to its heartbeat."""
    import aiohttp
    import socketio

    http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    token = (await (await http.get(f"{base}/api/csrf")).json())["csrf_token"]
    await http.post(f"{base}/login", data={"username": "examiner_nj01", "password": _demo_password(),
                                           "csrf_token": token})
    cookies = "; ".join(f"{c.key}={c.value}" for c in http.cookie_jar)
    sio = socketio.AsyncClient(reconnection=False)

    @sio.on("tile")
    def tile(update):
        started = sent.pop((update["attempt_id"], update.get("answered")), None)
        if started is not None:
            latencies.append(time.perf_counter() - started)

    await sio.connect(base, headers={"Cookie": cookies}, transports=["websocket"], wait_timeout=30)
    joined = await sio.call("monitor_join", {"session_id": session_id}, timeout=10)
    if not joined.get("ok"):
        raise RuntimeError(f"the dashboard could not join: {joined}")
    return http, sio


def _demo_password() -> str:
    from exam_server import demo

    return demo.DEMO_PASSWORD


async def beat(candidate: Candidate, sent: dict, until: float) -> int:
    """Heartbeats until `until`; `answered` counts up so that each one is told apart at the dashboard."""
    await asyncio.sleep(random.uniform(0, HEARTBEAT_S))
    count = 0
    while time.perf_counter() < until:
        count += 1
        sent[(candidate.attempt, count)] = time.perf_counter()
        await candidate.sio.emit("heartbeat", {"attempt_id": candidate.attempt, "answered": count, "total": 100})
        await asyncio.sleep(HEARTBEAT_S * random.uniform(0.9, 1.1))
    return count


async def run(base: str, session_id: int, pin: str, people, seconds: float) -> dict:
    import aiohttp

    sent: dict = {}
    latencies: list[float] = []
    candidates = [Candidate(base, t, i, pin) for t, i in people]
    sessions = [aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) for _ in candidates]
    http, watcher = await dashboard(base, session_id, sent, latencies)
    try:
        with phase("check-in"):
            for batch in range(0, len(candidates), 25):
                await asyncio.gather(*(c.check_in(s) for c, s in
                                       zip(candidates[batch:batch + 25], sessions[batch:batch + 25])))
        with phase("start"):
            await asyncio.gather(*(c.start() for c in candidates))
        with phase("heartbeats"):
            until = time.perf_counter() + seconds
            counts = await asyncio.gather(*(beat(c, sent, until) for c in candidates))
            await asyncio.sleep(2)                       # the last tiles in flight
        await asyncio.gather(*(c.sio.disconnect() for c in candidates))
        await watcher.disconnect()
    finally:
        for s in [*sessions, http]:
            await s.close()
    return {"sent": sum(counts), "latencies": latencies, "lost": len(sent)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=30)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        url = os.environ.get("EXAM_DATABASE_URL") or f"sqlite:///{tmp}/monitor.db"
        paper_key = os.urandom(32)
        session_id, pin, people = prepare(url, args.candidates, paper_key)
        port = free_port()
        env = {**os.environ, "EXAM_DATABASE_URL": url, "EXAM_INSTANCE_PATH": tmp, "EXAM_ASYNC_MODE": "gevent",
               "EXAM_PAPER_KEY": paper_key.hex(), "EXAM_SECRET_KEY": "monitor"}
        server = subprocess.Popen([str(EXAMCTL), "serve", "--port", str(port)], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_until_up(port)
            result = asyncio.run(run(f"http://127.0.0.1:{port}", session_id, pin, people, args.seconds))
        finally:
            server.terminate()
            server.wait(10)
    values = result["latencies"]
    p95 = percentile(values, 95)
    print(f"candidates={args.candidates} heartbeats={result['sent']} received={len(values)} lost={result['lost']} "
          f"p50_ms={percentile(values, 50):.0f} p95_ms={p95:.0f} p99_ms={percentile(values, 99):.0f} "
          f"target_p95_ms=1000 {'ok' if p95 <= 1000 else 'MISSED'}")
    return 0 if p95 <= 1000 and result["lost"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
