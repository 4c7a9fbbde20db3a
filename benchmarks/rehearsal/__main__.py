"""`python -m benchmarks.rehearsal` (`make rehearsal`): start the stack, build the province, run the day with its
faults, grade, release, confirm, issue, look up, check the invariants and print the report. Exits 1 when an
invariant fails. The small version (tests/rehearsal) calls `rehearse` with a small `Options`."""
from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from exam_server.db import Database
from exam_server.models import utcnow

from . import day as day_module
from . import invariants, province as province_module, results
from .bots import Metrics
from .day import DayLog, DayPlan
from .stack import Stack

PHASES = ("check_in", "start", "steady", "end", "after")


@dataclass
class Options:
    candidates: int = 400
    rooms: int = 10
    theory_s: int = 360
    practical_s: int = 240
    loss_s: float = 60.0
    think_s: float = 10.0
    trace_speed: float = 8.0
    servers: int = 2
    workers: int = 2
    grading_lease_s: int = 20
    folder: str = ""


@dataclass
class Outcome:
    checks: list = field(default_factory=list)
    report: str = ""

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)


class Resources:
    """CPU seconds and peak RSS of the stack's processes, sampled from /proc once a second (a process
    started again after a kill counts under the same name)."""

    def __init__(self, stack: Stack):
        self.stack, self.cpu, self.rss, self._stop = stack, {}, {}, threading.Event()
        self._ticks = os.sysconf("SC_CLK_TCK")
        threading.Thread(target=self._sample, daemon=True).start()

    def _sample(self) -> None:
        while not self._stop.wait(1.0):
            for name, pid in self.stack.processes():
                try:
                    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                    rss_kb = next(int(line.split()[1]) for line in Path(f"/proc/{pid}/status").read_text()
                                  .splitlines() if line.startswith("VmRSS:"))
                except (OSError, StopIteration, IndexError):
                    continue
                self.cpu.setdefault(name, {})[pid] = (int(fields[11]) + int(fields[12])) / self._ticks
                self.rss[name] = max(self.rss.get(name, 0), rss_kb)

    def stop(self) -> None:
        self._stop.set()

    def lines(self, wall_s: float) -> list[str]:
        rows = ["| process | CPU s | CPU % of wall | peak RSS MB |", "|---|---|---|---|"]
        for name in sorted(self.cpu):
            cpu = sum(self.cpu[name].values())
            rows.append(f"| {name} | {cpu:.0f} | {100 * cpu / wall_s:.0f} | {self.rss[name] / 1024:.0f} |")
        return rows


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def latency_lines(metrics: Metrics) -> list[str]:
    rows = ["| operation | phase | n | p50 ms | p95 ms | p99 ms | max ms |", "|---|---|---|---|---|---|---|"]
    for (operation, phase), values in sorted(metrics.latencies.items(),
                                             key=lambda kv: (kv[0][0], PHASES.index(kv[0][1])
                                                             if kv[0][1] in PHASES else 9)):
        ms = [v * 1000 for v in values]
        rows.append(f"| {operation} | {phase} | {len(ms)} | {percentile(ms, 50):.0f} | {percentile(ms, 95):.0f} | "
                    f"{percentile(ms, 99):.0f} | {max(ms):.0f} |")
    return rows


def report(options: Options, metrics: Metrics, log: DayLog, after: results.Aftermath, checks: list,
           resources: Resources, wall_s: float) -> str:
    lines = [f"candidates {options.candidates}, rooms {options.rooms}, servers {options.servers}, "
             f"grading workers {options.workers}; theory {options.theory_s} s, practical {options.practical_s} s, "
             f"network loss {options.loss_s:.0f} s; wall time {wall_s:.0f} s", "", "Latency (from the first send to "
             "the acknowledgement, retries included):", "", *latency_lines(metrics), "",
             f"Errors and retries: {dict(sorted(metrics.errors.items())) or 'none'}; refusals: "
             f"{dict(sorted(metrics.refused.items())) or 'none'}; reconnects: {metrics.reconnects}", "",
             "| fault | recovery s |", "|---|---|"]
    for fault in log.faults:
        recovery = f"{fault.recovered_at - fault.at:.1f}" if fault.recovered_at else "—"
        lines.append(f"| {fault.name} | {recovery} |")
    lines += ["", *resources.lines(wall_s), "",
              f"Manual marks {after.marked}. Grading jobs {after.jobs}; taken again after the worker kill: "
              f"{after.retaken}; all graded {after.graded_s:.0f} s after the day ended. Reports released "
              f"{after.released}, results confirmed {after.confirmed}, certificates issued {after.issued}, "
              f"looked up and verified through nginx {after.looked_up} ({len(after.lookup_failures)} failures "
              f"{after.lookup_failures[:3]}).",
              f"Examiners: {len(log.extended)} time extension, 1 pause, {log.incidents} incidents, "
              f"{log.misconduct} misconduct; moved to another computer: {len(log.moved)}.", ""]
    lines += [f"- {'PASS' if c.ok else 'FAIL'} {c.name}: {c.detail}" for c in checks]
    lines += [f"- note: {note}" for note in log.notes]
    return "\n".join(lines) + "\n"


def rehearse(options: Options) -> Outcome:
    folder = Path(options.folder or tempfile.mkdtemp(prefix="rehearsal-"))
    paper_key, cert_key = os.urandom(32), os.urandom(32).hex()
    started = time.time()
    stack = Stack(folder, options.servers, options.workers, paper_key,
                  {"EXAM_CERT_KEY": cert_key, "EXAM_GRADING_LEASE_S": str(options.grading_lease_s)})
    resources = None
    try:
        stack.create_database()
        province = province_module.build(stack.database_url, options.candidates, options.rooms, options.theory_s,
                                         options.practical_s, paper_key, utcnow())
        stack.start()
        resources = Resources(stack)
        metrics, log, after = Metrics(), DayLog(), results.Aftermath()
        plan = DayPlan(options.theory_s, options.practical_s, options.loss_s, options.think_s, options.trace_speed)
        killer = {}
        watcher = threading.Thread(target=lambda: killer.setdefault(
            "jobs", results.kill_worker_mid_job(stack, log.faults, options.theory_s + options.practical_s * 3)),
            daemon=True)

        async def the_day():
            day = asyncio.create_task(day_module.run(province, stack, plan, metrics, log, watcher.start))
            return await day

        day = asyncio.run(the_day())
        submitted = time.time()
        results.wait_graded(stack, options.grading_lease_s * 3 + 180)
        after.graded_s = time.time() - submitted
        watcher.join(1)
        after.retaken = _retaken(stack, killer.get("jobs", []), log)
        database = Database(stack.database_url)
        try:
            results.mark_manual_items(database, day["sessions"], after)
            after.jobs = results.wait_graded(stack, 180)
            issued = results.release_confirm_issue(database, day["sessions"], cert_key, after)
            asyncio.run(results.look_up(stack.base, issued, metrics, after))
            checks = invariants.check_all(database, metrics, day)
            checks.append(invariants.Check(
                "the killed worker's job was taken again and finished", bool(after.retaken),
                f"jobs {killer.get('jobs')} → taken again {after.retaken}; all jobs {after.jobs}"))
            checks.append(invariants.Check(
                "every issued certificate is found and verifies through nginx",
                after.issued > 0 and after.looked_up == after.issued,
                f"{after.looked_up} of {after.issued}, failures {after.lookup_failures[:3]}"))
        finally:
            database.dispose()
        resources.stop()
        text = report(options, metrics, log, after, checks, resources, time.time() - started)
        return Outcome(checks, text)
    finally:
        if resources is not None:
            resources.stop()
        stack.stop()


def _retaken(stack: Stack, job_ids: list[int], log: DayLog) -> list[int]:
    """The killed worker's jobs that another take finished; the fault's recovery is the finish time."""
    from sqlalchemy import select

    from exam_server.models import GradingJob

    database = Database(stack.database_url)
    try:
        with database.session(write=False) as db:
            rows = db.execute(select(GradingJob).where(GradingJob.id.in_(job_ids))).scalars().all()
            done = [j for j in rows if j.finished_at is not None and j.attempts >= 2]
            fault = next((f for f in log.faults if "grading worker" in f.name), None)
            if fault and done and len(done) == len(job_ids):
                fault.recovered_at = max(j.finished_at for j in done).timestamp()
            return [j.id for j in done]
    finally:
        database.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.rehearsal", description=__doc__)
    defaults = Options()
    for name, value in vars(defaults).items():
        parser.add_argument("--" + name.replace("_", "-"), type=type(value), default=value)
    parser.add_argument("--out", default="", help="also write the report to this file")
    args = vars(parser.parse_args(argv))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    out = args.pop("out")
    outcome = rehearse(Options(**args))
    print(outcome.report)
    if out:
        Path(out).write_text(outcome.report, encoding="utf-8")
    return 0 if outcome.ok else 1


if __name__ == "__main__":
    sys.exit(main())
