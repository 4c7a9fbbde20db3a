"""The scripted exam day: theory in every room, then the practical part, with the examiners' actions and the
faults on a fixed schedule; returns what happened, for the invariants and the report."""
from __future__ import annotations

import asyncio
import logging
import random
import time
from dataclasses import dataclass, field

from .bots import Examiner, Metrics, PracticalCandidate, TheoryCandidate
from .province import Province
from .stack import Stack

PASSWORD = "Demo@2026"
logger = logging.getLogger("rehearsal")


def say(what: str) -> None:
    logger.info(what)


@dataclass
class DayPlan:
    theory_s: int              # the sessions' duration
    practical_s: int
    loss_s: float              # network loss for a group of candidates
    think_s: float             # mean think time between answers
    trace_speed: float         # how much faster than recorded the practical traces are replayed
    lossy_share: float = 0.1   # candidates behind the link that drops
    no_submit_share: float = 0.05   # candidates who never press submit (the deadline closes them)


@dataclass
class Fault:
    name: str
    at: float                  # time.time() when injected
    recovered_at: float = 0.0  # when every affected bot had an acknowledgement again (0: not measured)

    def __post_init__(self):
        say(f"fault: {self.name}")


@dataclass
class DayLog:
    faults: list[Fault] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    moved: list[int] = field(default_factory=list)          # attempts that moved to another computer
    extended: list[int] = field(default_factory=list)
    incidents: int = 0
    misconduct: int = 0


async def _recovered(fault: Fault, metrics: Metrics, bots: list, log: DayLog, timeout: float = 240) -> None:
    """Recovery: every affected bot that was still working got an acknowledgement after the fault (an upper
    bound: a bot's think time after the fault counts too)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        waiting = [b for b in bots if b.working and not b.closed and metrics.last_ack.get(id(b), 0) < fault.at]
        if not waiting:
            fault.recovered_at = time.time()
            return
        await asyncio.sleep(0.5)
    log.notes.append(f"{fault.name}: {len(waiting)} bots had no acknowledgement within {timeout:.0f} s")


async def run(province: Province, stack: Stack, plan: DayPlan, metrics: Metrics, log: DayLog,
              grading_starts=lambda: None) -> dict:
    """The day; ``grading_starts`` is called as the theory part ends (the grading worker fault watches then, and
    the job it holds is taken again while the practical part runs)."""
    rng = random.Random(14)
    examiners = {r.index: Examiner(stack.base, metrics, r.examiner, PASSWORD) for r in province.rooms}
    supervisor = Examiner(stack.base, metrics, province.rooms[0].supervisor, PASSWORD)
    await asyncio.gather(*(e.sign_in() for e in examiners.values()), supervisor.sign_in())
    lossy = set(rng.sample(range(len(province.seats)), k=max(1, int(len(province.seats) * plan.lossy_share))))
    silent = set(rng.sample(range(len(province.seats)), k=int(len(province.seats) * plan.no_submit_share)))

    def base(n: int) -> str:
        return stack.lossy_base if n in lossy else stack.base

    # ---- theory ---------------------------------------------------------------------------------------------
    say("theory")
    theory = [TheoryCandidate(base(n), metrics, s.ticket, s.id_number) for n, s in enumerate(province.seats)]
    sessions = {(r.index, m): sid for r in province.rooms for m, sid in r.theory.items()}
    pins = {key: (await examiners[key[0]].act("POST", f"/api/sessions/{sid}/check-in"))["pin"]
            for key, sid in sessions.items()}
    metrics.enter("check_in")
    for start in range(0, len(theory), 20):            # they arrive a few at a time
        await asyncio.gather(*(c.check_in(pins[(s.room, s.machine)]) for c, s in
                               zip(theory[start:start + 20], province.seats[start:start + 20])))
    metrics.enter("start")
    await asyncio.gather(*(examiners[key[0]].act("POST", f"/api/sessions/{sid}/start")
                           for key, sid in sessions.items()))
    await asyncio.gather(*(c.start() for c in theory))
    metrics.enter("steady")
    until = time.time() + plan.theory_s * 0.75
    answering = asyncio.gather(*(c.answer(province.answers, plan.think_s, until, random.Random(n))
                                 for n, c in enumerate(theory)))
    script = asyncio.create_task(_theory_script(province, stack, plan, metrics, log, examiners, supervisor,
                                                theory, sessions, lossy))
    await answering
    await script
    grading_starts()
    metrics.enter("end")
    await asyncio.gather(*(c.submit() for n, c in enumerate(theory) if n not in silent))
    metrics.enter("after")
    latest = time.time() + plan.theory_s * 0.25 + max([0, *[e for e in log.extended]]) + 60
    await _wait_closed(stack, [c.attempt for c in theory], latest)
    await asyncio.gather(*(examiners[key[0]].act("POST", f"/api/sessions/{sid}/end")
                           for key, sid in sessions.items()))

    # ---- practical ------------------------------------------------------------------------------------------
    say("practical")
    work = [PracticalCandidate(base(n), metrics, s.practical_ticket, s.id_number, s.machine)
            for n, s in enumerate(province.seats)]
    sessions_p = {(r.index, m): sid for r in province.rooms for m, sid in r.practical.items()}
    pins = {key: (await examiners[key[0]].act("POST", f"/api/sessions/{sid}/check-in"))["pin"]
            for key, sid in sessions_p.items()}
    metrics.enter("check_in")
    for start in range(0, len(work), 20):
        await asyncio.gather(*(c.check_in(pins[(s.room, s.machine)]) for c, s in
                               zip(work[start:start + 20], province.seats[start:start + 20])))
    metrics.enter("start")
    await asyncio.gather(*(examiners[key[0]].act("POST", f"/api/sessions/{sid}/start")
                           for key, sid in sessions_p.items()))
    await asyncio.gather(*(c.start() for c in work))
    metrics.enter("steady")
    until = time.time() + plan.practical_s * 0.8
    faults = asyncio.create_task(_practical_script(stack, plan, metrics, log, work))
    await asyncio.gather(*(c.operate(plan.trace_speed, until, random.Random(n)) for n, c in enumerate(work)))
    await faults
    metrics.enter("end")
    await asyncio.gather(*(c.submit() for c in work))
    metrics.enter("after")
    await asyncio.gather(*(examiners[key[0]].act("POST", f"/api/sessions/{sid}/end")
                           for key, sid in sessions_p.items()))
    dashboards = {sid: await examiners[key[0]].act("GET", f"/api/sessions/{sid}/monitor")
                  for key, sid in {**sessions, **sessions_p}.items()}
    for person in [*theory, *work, *examiners.values(), supervisor]:
        await person.close()
    return {"theory": theory, "practical": work, "dashboards": dashboards,
            "sessions": list(sessions.values()) + list(sessions_p.values())}


async def _wait_closed(stack: Stack, attempts: list[int], latest: float) -> None:
    """Until every theory attempt is closed (submitted, or by the sweeper at its deadline)."""
    while time.time() < latest:
        if stack.open_attempts(attempts) == 0:
            return
        await asyncio.sleep(2)


async def _theory_script(province, stack, plan, metrics, log, examiners, supervisor, theory, sessions, lossy):
    """The examiners' actions and the faults, spread over the answering time."""
    span = plan.theory_s * 0.75
    first_room = province.rooms[0].index
    room_session = sessions[(first_room, "lathe")]
    await asyncio.sleep(span * 0.10)
    in_room = [c for c, seat in zip(theory, province.seats) if seat.room == first_room]   # the examiner's own
    extended, extension = in_room[0], min(300, plan.theory_s // 4)
    done = await examiners[first_room].act("POST", f"/api/attempts/{extended.attempt}/time",
                                    {"seconds": extension, "kind": "incident", "reason": "演练：机器故障补时"})
    if not done.get("_status"):
        log.extended.append(extension)
    refused = await supervisor._request("POST", f"/api/sessions/{room_session}/pause", {"reason": "督导员不能操作"})
    if refused.get("_status") not in (403, 404):
        log.notes.append(f"a supervisor's pause was not refused: {refused}")
    await examiners[first_room].act("POST", f"/api/sessions/{room_session}/pause", {"reason": "演练：停电"})
    await asyncio.sleep(min(20.0, span * 0.05))
    await examiners[first_room].act("POST", f"/api/sessions/{room_session}/resume")
    for text in ("演练：空调噪声", "演练：考生身体不适"):
        done = await examiners[first_room].act("POST", f"/api/sessions/{room_session}/incidents",
                                               {"category": "environment" if "空调" in text else "candidate",
                                                "description": text})
        log.incidents += not done.get("_status")
    done = await examiners[first_room].act("POST", f"/api/attempts/{in_room[-1].attempt}/misconduct",
                                           {"tier": "warning", "description": "演练：交头接耳，口头警告"})
    log.misconduct += not done.get("_status")

    await asyncio.sleep(span * 0.10)
    fault = Fault("kill -9 of one server", time.time())
    log.faults.append(fault)
    stack.servers[0].kill()
    await asyncio.sleep(5)
    stack.servers[0].start()
    await _recovered(fault, metrics, theory, log)

    await asyncio.sleep(span * 0.08)
    fault = Fault("Redis restart", time.time())
    log.faults.append(fault)
    stack.redis.restart()
    await _recovered(fault, metrics, theory, log)

    await asyncio.sleep(span * 0.08)
    fault = Fault("PostgreSQL restart", time.time())
    log.faults.append(fault)
    await asyncio.to_thread(stack.postgres.restart)
    await _recovered(fault, metrics, theory, log)

    await asyncio.sleep(span * 0.05)
    fault = Fault(f"{plan.loss_s:.0f} s of network loss for {len(lossy)} candidates", time.time())
    log.faults.append(fault)
    stack.cut_lossy()
    await asyncio.sleep(plan.loss_s)
    stack.restore_lossy()
    await _recovered(fault, metrics, [theory[n] for n in lossy], log)

    mover = theory[3]                   # a candidate moves to another computer: held until the examiner approves
    fault = Fault("a candidate moves to another computer", time.time())
    log.faults.append(fault)
    new_client = mover.client_id[::-1]
    waiting = await mover.start(new_client)
    if waiting.get("_status") != 409:
        log.notes.append(f"a second computer was not held for the examiner: {waiting}")
    mover.client_id = new_client
    await examiners[province.seats[3].room].act("POST", f"/api/attempts/{mover.attempt}/takeover/approve")
    await mover.start(new_client)
    log.moved.append(mover.attempt)
    item = next(iter(province.answers))
    mover.closed = False
    await mover.save(item, province.answers[item])       # the new computer saves: recovered
    if mover.attempt in log.moved and not mover.closed:
        fault.recovered_at = time.time()


async def _practical_script(stack, plan, metrics, log, work):
    await asyncio.sleep(plan.practical_s * 0.3)
    fault = Fault("kill -9 of the other server (practical)", time.time())
    log.faults.append(fault)
    stack.servers[1].kill()
    await asyncio.sleep(5)
    stack.servers[1].start()
    await _recovered(fault, metrics, work, log)
