"""The rehearsal's people as asyncio bots on the same routes and Socket.IO events as the browsers: candidates
(theory answers with think times and changes of mind; practical traces recorded from real lathe and mill runs),
and examiners. Every operation is resent until acknowledged, as the browser's outbox does; every acknowledgement
is logged with its op_id, so that the end of the day can reconcile the logs against the database."""
from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "tasks"
TRACES = {"lathe": EXAMPLES / "lathe_zj01" / "trace_reference.jsonl",
          "mill": EXAMPLES / "mill_zj01" / "trace_reference.jsonl"}
GIVE_UP_S = 180.0          # longer than any fault the day injects
CLOSED = ("delivery.attempt_closed", "delivery.taken_over")     # refusals that end a bot's work
FINAL = (*CLOSED, "delivery.bad_op")                             # refusals the outbox does not send again


class GaveUp(RuntimeError):
    """A request without an answer for GIVE_UP_S: the bot stops (counted), the day goes on."""


def survives(work):
    """A bot's step that gives up counts as `gave_up` and closes the bot instead of ending the whole day."""
    async def step(self, *args, **kwargs):
        try:
            return await work(self, *args, **kwargs)
        except GaveUp:
            self.metrics.error(f"gave_up_{work.__name__}")
            self.closed = True
            return {}
    step.__name__ = work.__name__
    return step


@dataclass
class Metrics:
    """Latencies (s) by operation and phase, plus counts; shared by every bot of a run."""
    phase: str = "setup"
    latencies: dict[tuple[str, str], list[float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    reconnects: int = 0
    acked_saves: set[str] = field(default_factory=set)
    acked_events: set[str] = field(default_factory=set)
    refused: dict[str, int] = field(default_factory=dict)      # error acks by key (closed attempts and the like)
    last_ack: dict[int, float] = field(default_factory=dict)   # bot id → time of its last acknowledgement

    def enter(self, phase: str) -> None:
        import logging

        self.phase = phase
        logging.getLogger("rehearsal").info("phase %s", phase)

    def took(self, operation: str, seconds: float, phase: Optional[str] = None) -> None:
        self.latencies.setdefault((operation, phase or self.phase), []).append(seconds)

    def error(self, what: str) -> None:
        self.errors[what] = self.errors.get(what, 0) + 1


def socketio_errors():
    import socketio

    return socketio.exceptions.SocketIOError


class Person:
    """An HTTP session (cookies, CSRF) and, for candidates, a Socket.IO connection that reconnects itself."""

    def __init__(self, base: str, metrics: Metrics):
        self.base, self.metrics, self.http, self.sio = base, metrics, None, None
        self._csrf = ""          # fetched once per sign-in, as a page carries it; again after a refusal

    async def open(self) -> None:
        import aiohttp

        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True),
                                          timeout=aiohttp.ClientTimeout(total=60))

    async def close(self) -> None:
        if self.sio is not None and self.sio.connected:
            await self.sio.disconnect()
        if self.http is not None:
            await self.http.close()

    async def csrf(self) -> str:
        if not self._csrf:
            self._csrf = (await self._request("GET", "/api/csrf"))["csrf_token"]
        return self._csrf

    async def _request(self, method: str, path: str, body: Optional[dict] = None, ok=(200,)) -> dict:
        """One HTTP call, retried while the stack is down (a killed server, a restarting database)."""
        import aiohttp

        started = time.perf_counter()
        while True:
            try:
                stale = bool(self._csrf)
                headers = {} if method == "GET" or path == "/api/csrf" else {"X-CSRF-Token": await self.csrf()}
                async with self.http.request(method, self.base + path, json=body, headers=headers) as response:
                    data = await response.json(content_type=None) if response.content_length != 0 else {}
                    if response.status in ok:
                        return data or {}
                    if response.status == 403 and stale and (data or {}).get("error", {}).get("code") == "error.csrf":
                        self._csrf = ""      # signed in (or out) since: a new session, a new token
                        continue
                    if response.status < 500:
                        return {"_status": response.status, **(data or {})}
                    self.metrics.error(f"http_{response.status}")
            except (aiohttp.ClientError, asyncio.TimeoutError, json.JSONDecodeError):
                self.metrics.error("http_connection")
            if time.perf_counter() - started > GIVE_UP_S:
                raise GaveUp(f"{method} {path}: no answer within {GIVE_UP_S:.0f} s")
            await asyncio.sleep(1.0)

    def cookies(self) -> str:
        return "; ".join(f"{c.key}={c.value}" for c in self.http.cookie_jar)

    async def connect(self) -> None:
        import socketio

        if self.sio is None:
            self.sio = socketio.AsyncClient(reconnection=False)      # ours to do: its own drops the cookie
        started = time.perf_counter()
        while not self.sio.connected:
            try:
                await self.sio.connect(self.base, headers={"Cookie": self.cookies()}, transports=["websocket"],
                                       wait_timeout=10)
            except socketio_errors() as exc:
                if time.perf_counter() - started > GIVE_UP_S:
                    raise GaveUp(f"no Socket.IO connection within {GIVE_UP_S:.0f} s") from exc
                await asyncio.sleep(1.0 + random.random())

    async def call(self, event: str, op: dict, operation: str, acked: set[str]) -> dict:
        """Send one operation until acknowledged (reconnecting as needed), as the browser's outbox does: a
        refusal other than a final one (attempt closed or taken over, a malformed operation) is sent again after
        a pause. The latency counts from the first send."""
        started, phase = time.perf_counter(), self.metrics.phase
        while True:
            try:
                if not self.sio.connected:
                    self.metrics.reconnects += 1
                    await self.connect()
                ack = await self.sio.call(event, op, timeout=10)
                key = "" if ack.get("ok") else (ack.get("error") or {}).get("code", "unknown")
                if not key or key in FINAL:
                    break
                self.metrics.refused[key] = self.metrics.refused.get(key, 0) + 1
            except (TimeoutError, asyncio.TimeoutError, socketio_errors()):
                self.metrics.error(f"{operation}_retry")
            if time.perf_counter() - started > GIVE_UP_S:
                self.metrics.error(f"{operation}_abandoned")
                return {"ok": False, "error": {"code": "abandoned"}}
            await asyncio.sleep(0.5 + random.random())
        if ack.get("ok"):
            acked.add(op["op_id"])
            self.metrics.took(operation, time.perf_counter() - started, phase)
            self.metrics.last_ack[id(self)] = time.time()
        else:
            self.metrics.refused[key] = self.metrics.refused.get(key, 0) + 1
        return ack


class Candidate(Person):
    def __init__(self, base: str, metrics: Metrics, ticket: str, id_number: str):
        super().__init__(base, metrics)
        self.ticket, self.id_number = ticket, id_number
        self.client_id, self.seq, self.attempt, self.closed = uuid.uuid4().hex[:24], 0, None, False
        self.working = False        # answering or operating: the bots a fault's recovery waits for
        self.entry = None

    @survives
    async def check_in(self, pin: str) -> None:
        await self.open()
        started = time.perf_counter()
        result = await self._request("POST", "/api/check-in", {"ticket_number": self.ticket,
                                                               "id_number": self.id_number, "pin": pin})
        self.metrics.took("check_in", time.perf_counter() - started)
        self.entry, self._csrf = result["roster_entry_id"], ""
        await self.connect()

    @survives
    async def start(self, client_id: Optional[str] = None) -> dict:
        if self.entry is None:      # its check-in gave up
            self.closed = True
            return {}
        started = time.perf_counter()
        state = await self._request("POST", f"/api/roster/{self.entry}/attempt",
                                    {"client_id": client_id or self.client_id}, ok=(200,))
        self.metrics.took("start", time.perf_counter() - started)
        if "attempt_id" in state:
            self.attempt = state["attempt_id"]
        return state

    @survives
    async def submit(self) -> None:
        if self.closed:
            return
        started = time.perf_counter()
        result = await self._request("POST", f"/api/attempts/{self.attempt}/submit", {"client_id": self.client_id})
        if result.get("_status"):
            self.metrics.error(f"submit_{result['_status']}")
        else:
            self.metrics.took("submit", time.perf_counter() - started)
        self.closed = True

    def _closed_by(self, ack: dict) -> bool:
        return (ack.get("error") or {}).get("code", "") in CLOSED


class TheoryCandidate(Candidate):
    @survives
    async def answer(self, answers: dict, think_s: float, until: float, rng: random.Random) -> None:
        """Every item once, some changed afterwards (a change of mind), with think times, until ``until``."""
        items = list(answers)
        rng.shuffle(items)
        plan = [(item, answers[item] if rng.random() < 0.85 else _wrong(answers[item], rng)) for item in items]
        plan += [(item, answers[item]) for item in rng.sample(items, k=len(items) // 4)]   # second thoughts
        self.working = True
        try:
            for item, value in plan:
                await asyncio.sleep(rng.expovariate(1 / think_s))
                if self.closed or time.time() >= until:
                    return
                await self.save(item, value)
        finally:
            self.working = False

    async def save(self, item: str, value) -> None:
        self.seq += 1
        op = {"op_id": uuid.uuid4().hex, "attempt_id": self.attempt, "seq": self.seq, "client_id": self.client_id,
              "item_id": item, "value": value}
        ack = await self.call("save", op, "save", self.metrics.acked_saves)
        if not ack.get("ok") and self._closed_by(ack):
            self.closed = True


class PracticalCandidate(Candidate):
    def __init__(self, base: str, metrics: Metrics, ticket: str, id_number: str, machine: str):
        super().__init__(base, metrics, ticket, id_number)
        self.machine = machine
        self.trace = [json.loads(line) for line in TRACES[machine].read_text(encoding="utf-8").splitlines()
                      if line.strip()]

    @survives
    async def operate(self, speed: float, until: float, rng: random.Random) -> None:
        """The recorded trace, event by event, its pauses compressed ``speed`` times (a program run counts
        as one event: the server plays it)."""
        self.working = True
        try:
            await self._operate(speed, until, rng)
        finally:
            self.working = False

    async def _operate(self, speed: float, until: float, rng: random.Random) -> None:
        if self.closed:
            return
        state = await self._request("GET", f"/api/attempts/{self.attempt}/machine?client_id={self.client_id}")
        self.seq = state.get("last_seq", 0)
        previous = 0
        for event in self.trace[self.seq:]:
            await asyncio.sleep(max(0.0, (event["t_client"] - previous) / 1000 / speed) + rng.random() * 0.05)
            previous = event["t_client"]
            if self.closed or time.time() >= until:
                return
            self.seq += 1
            op = {"attempt_id": self.attempt, "client_id": self.client_id, "op_id": uuid.uuid4().hex,
                  "seq": self.seq, "event": {"type": event["type"], "payload": event["payload"],
                                             "t_client": int(time.time() * 1000)}}
            kind = "cycle" if event["type"] == "cycle_start" else "machine"
            ack = await self.call("machine", op, kind, self.metrics.acked_events)
            if not ack.get("ok") and self._closed_by(ack):
                self.closed = True
                return


class Examiner(Person):
    def __init__(self, base: str, metrics: Metrics, username: str, password: str):
        super().__init__(base, metrics)
        self.username, self.password = username, password

    async def sign_in(self) -> None:
        import aiohttp

        await self.open()
        token = await self.csrf()
        form = aiohttp.FormData({"username": self.username, "password": self.password, "csrf_token": token})
        async with self.http.post(self.base + "/login", data=form, allow_redirects=False) as response:
            if response.status not in (302, 303):
                raise RuntimeError(f"{self.username} could not sign in ({response.status})")
        self._csrf = ""
    async def act(self, method: str, path: str, body: Optional[dict] = None) -> dict:
        started = time.perf_counter()
        result = await self._request(method, path, body)
        self.metrics.took("examiner", time.perf_counter() - started)
        if result.get("_status"):
            self.metrics.error(f"examiner_{result['_status']}")
        return result


def _wrong(value, rng: random.Random):
    if isinstance(value, bool):
        return not value
    if isinstance(value, list):
        return value[:-1] or ["A"]
    if isinstance(value, (int, float)):
        return value + 1
    return rng.choice([c for c in "ABCD" if c != value])
