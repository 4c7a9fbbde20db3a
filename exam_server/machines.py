"""The in-memory machine sessions of a server process: one LatheSession or MillSession per active practical
attempt, a cache of the stored trace and never the truth.

A session missing from memory (first use, evicted, server restarted) or behind the database (another process
accepted an event) is rebuilt by replaying the attempt's stored events, so dropping one loses nothing. Idle
sessions are evicted (least recently used first) when there are too many or when they idle too long.

Applying an event can be CPU-heavy (a cycle start plans the program; the next event plays the whole run through
the exact stock; a replay folds a whole trace). Under gevent that would stall every other candidate's socket, so
heavy work goes to one native thread of a gevent threadpool (`run_cpu`): the hub keeps serving other greenlets
whenever that thread yields the GIL (at least every `sys.getswitchinterval()`). Cheap panel events (most of them)
run inline: handing a sub-millisecond apply to a thread costs more latency than it saves. A process pool would
also free the GIL but needs the sessions to live in the workers; benchmarks/practical_load.py measures the
choice (--offload heavy|all|none, and a loop-stall probe).
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from simulators.cnc_lathe import session as lathe_session
from simulators.cnc_mill import session as mill_session

SESSION_MODULES = {"lathe": lathe_session, "mill": mill_session}
MAX_SESSIONS = 300           # a few hundred practical candidates per process (issue #9)
IDLE_SECONDS = 15 * 60       # a session untouched this long is dropped (rebuilt by replay on return)
# What goes to the threadpool under gevent: "heavy" events and replays (the default), "all" or "none"
# (benchmarks/practical_load.py --offload compares the three).
OFFLOAD = "heavy"
HEAVY_TYPES = frozenset({"cycle_start", "program_check", "load_stock", "measure"})


@dataclass
class MachineSource:
    """What rebuilding a session needs: the machine type and block of the attempt's task, and its events."""

    machine_type: str
    machine: dict
    events: list[dict]

    @property
    def last_seq(self) -> int:
        return self.events[-1]["seq"] if self.events else 0


# loader(attempt_id, before_seq) -> MachineSource with the stored events whose seq < before_seq (None: all)
Loader = Callable[[int, Optional[int]], MachineSource]


@dataclass
class _Entry:
    session: Any
    seq: int = 0           # the last event folded into the session (the session itself skips malformed ones)
    lock: threading.RLock = field(default_factory=threading.RLock)
    used_at: float = 0.0


def gevent_active() -> bool:
    """True when this process runs under gevent with threading patched (the production server)."""
    try:
        from gevent import monkey
    except ImportError:
        return False
    return monkey.is_module_patched("threading")


_pool = None


def run_cpu(function: Callable, *args):
    """Run CPU-bound pure work off the event loop under gevent (a native thread), inline otherwise.

    One thread only: with the GIL, more threads add no CPU, and each one that computes makes the hub wait
    longer for the GIL after every socket call (the convoy effect); queued jobs finish in order instead."""
    global _pool
    if OFFLOAD != "none" and gevent_active():
        if _pool is None:
            from gevent.threadpool import ThreadPool
            _pool = ThreadPool(1)
        return _pool.apply(function, args)
    return function(*args)


def run_aside(function: Callable, *args):
    """Long work that is nobody's machine (an examiner's task check): gevent's own threadpool, so it never
    queues in front of a candidate's cycle start; inline without gevent."""
    if gevent_active():
        import gevent
        return gevent.get_hub().threadpool.apply(function, args)
    return function(*args)


def is_heavy(session, event: dict) -> bool:
    """Whether applying ``event`` may take long: it plans or checks a program, builds or probes the stock, or
    a run is playing (an event plays the run's pending motions through the stock before its own effect)."""
    run = getattr(session, "run", None)
    return event.get("type") in HEAVY_TYPES or bool(run is not None and run.pending)


def build_session(source: MachineSource):
    """A fresh session with the source's events folded in (replay: quiet replies, no stock diffs built)."""
    return SESSION_MODULES[source.machine_type].replay(source.machine, source.events)


class MachineManager:
    """The sessions of one server process, keyed by attempt id. Thread- and greenlet-safe: one lock for the
    table, one per attempt around every use of its session (events of one attempt are applied in order)."""

    def __init__(self, loader: Loader, max_sessions: int = MAX_SESSIONS, idle_seconds: float = IDLE_SECONDS,
                 clock: Callable[[], float] = time.monotonic):
        self.loader = loader
        self.max_sessions = max_sessions
        self.idle_seconds = idle_seconds
        self.clock = clock
        self._entries: OrderedDict[int, _Entry] = OrderedDict()
        self._table = threading.Lock()
        self.rebuilds = 0

    # ---- the table -------------------------------------------------------------------------------------
    def _entry(self, attempt_id: int) -> _Entry:
        """The attempt's entry (created empty when missing), marked as just used; evicts idle ones."""
        now = self.clock()
        with self._table:
            entry = self._entries.pop(attempt_id, None) or _Entry(session=None)
            entry.used_at = now
            self._entries[attempt_id] = entry
            self._evict(now)
            return entry

    def _evict(self, now: float) -> None:
        while self._entries:
            oldest_id, oldest = next(iter(self._entries.items()))
            too_many = len(self._entries) > self.max_sessions
            if not (too_many or now - oldest.used_at > self.idle_seconds):
                return
            if not oldest.lock.acquire(blocking=False):
                return      # in use right now: it is not idle
            try:
                del self._entries[oldest_id]
            finally:
                oldest.lock.release()

    def lock(self, attempt_id: int) -> threading.RLock:
        """The attempt's lock: hold it across store-commit-apply so that events reach the session in order."""
        return self._entry(attempt_id).lock

    def drop(self, attempt_id: int) -> None:
        with self._table:
            self._entries.pop(attempt_id, None)

    def __len__(self) -> int:
        return len(self._entries)

    def cached(self, attempt_id: int) -> bool:
        entry = self._entries.get(attempt_id)
        return entry is not None and entry.session is not None

    # ---- sessions --------------------------------------------------------------------------------------
    def _session_at(self, entry: _Entry, attempt_id: int, seq: Optional[int]) -> Any:
        """The entry's session holding exactly the events before ``seq`` (all stored ones when None)."""
        if entry.session is not None and (seq is None or entry.seq == seq - 1):
            return entry.session
        source = self.loader(attempt_id, seq)
        entry.session = None
        entry.session, entry.seq = run_cpu(build_session, source), source.last_seq
        self.rebuilds += 1
        return entry.session

    def apply(self, attempt_id: int, event: dict) -> dict:
        """Apply a stored event (its seq must be the next after the session's) and return the update."""
        entry = self._entry(attempt_id)
        with entry.lock:
            session = self._session_at(entry, attempt_id, event["seq"])
            try:
                offload = OFFLOAD == "all" or is_heavy(session, event)
                update = run_cpu(session.apply, event) if offload else session.apply(event)
            except BaseException:
                entry.session = None       # never keep a session that may be half-way through an event
                raise
            entry.seq = event["seq"]
            return update

    def _current(self, entry: _Entry, attempt_id: int, last_seq: int) -> Any:
        """The session after every stored event; ``last_seq`` is the database's (rebuilt when it differs)."""
        if entry.session is not None and entry.seq != last_seq:
            entry.session = None
        return self._session_at(entry, attempt_id, None)

    def view(self, attempt_id: int, last_seq: int) -> tuple[dict, int]:
        """The machine view after the stored events, and the seq it holds."""
        entry = self._entry(attempt_id)
        with entry.lock:
            session = self._current(entry, attempt_id, last_seq)
            return run_cpu(session.view), entry.seq

    def summary(self, attempt_id: int, last_seq: int, items=(), work_zero=None) -> dict:
        """The session's summary after the stored events (items measured on the final part)."""
        entry = self._entry(attempt_id)
        with entry.lock:
            session = self._current(entry, attempt_id, last_seq)
            return run_cpu(session.summary, items, work_zero)
