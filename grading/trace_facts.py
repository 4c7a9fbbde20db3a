"""Facts of an operation trace that the session's summary does not keep: when things happened, by event seq.

The session (simulators/*/session.py) records which events it refused (``summary()["invalid_events"]``); every
other event took effect. Folding only the accepted events through this small observer gives, at each
automatic start, the mode, the referenced axes, the panel switches and the program text that ran (program
memory is rebuilt with the core editor, the same one the panel uses), plus the manual spindle commands, the
offset inputs and the event times. Nothing here re-implements machining: cuts and crashes come from the
session's summary.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from simulators.core.editor import Editor, EditRejected, ProgramStore

SWITCHES = ("single_block", "dry_run", "machine_lock", "optional_stop", "block_delete")
MACHINING_EVENTS = ("jog", "step", "handle", "cycle_start")


@dataclass(frozen=True)
class Start:
    """An accepted cycle start: a new run or the resumption of a held one."""

    seq: int
    mode: str                          # MEM or MDI
    program: int | None                # O number (MEM)
    text: str                          # the run text: the program, then every other stored program
    main_lines: int                    # lines of the run text that belong to the program started
    switches: Mapping[str, bool]
    referenced: frozenset
    time_ms: int


@dataclass
class TraceFacts:
    axes: tuple[str, ...]
    starts: list[Start] = field(default_factory=list)
    spindle_commands: list[tuple[int, str]] = field(default_factory=list)      # (seq, cw|ccw|stop)
    offset_events: list[tuple[int, Mapping]] = field(default_factory=list)     # (seq, payload)
    program_saved_at: dict[int, int] = field(default_factory=dict)             # O number -> last seq changing it
    final_programs: dict[int, str] = field(default_factory=dict)
    stick_out: float | None = None
    first_ms: int | None = None
    last_ms: int | None = None
    first_machining: tuple[int, int] | None = None                             # (seq, ms)

    @property
    def mem_starts(self) -> list[Start]:
        return [s for s in self.starts if s.mode == "MEM"]


def event_ms(event: Mapping[str, Any]) -> int | None:
    """The event's time: the server's receipt time, else the client's (ms since the attempt started)."""
    value = event.get("t_server")
    if value is None:
        value = event.get("t_client")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class _Observer:
    def __init__(self, axes: Sequence[str], crashed_seqs: set[int]):
        self.facts = TraceFacts(tuple(axes))
        self.crashed = crashed_seqs
        self.mode = "JOG"
        self.power = False
        self.referenced: set[str] = set()
        self.switches = {name: False for name in SWITCHES}
        self.editor = Editor(ProgramStore())
        self.mdi_text = ""

    def see(self, event: Mapping[str, Any]) -> None:
        type_, payload, seq = event["type"], event.get("payload") or {}, event["seq"]
        ms = event_ms(event)
        facts = self.facts
        if ms is not None:
            facts.first_ms = ms if facts.first_ms is None else facts.first_ms
            facts.last_ms = ms
        handler = getattr(self, "_" + type_, None)
        if handler is not None:
            handler(seq, payload, ms)
        if type_ in MACHINING_EVENTS and facts.first_machining is None:
            facts.first_machining = (seq, ms if ms is not None else 0)

    def _power(self, seq, payload, ms):
        self.power = bool(payload["on"])
        if not self.power:
            self.referenced.clear()

    def _mode(self, seq, payload, ms):
        self.mode = payload["mode"]

    def _ref_return(self, seq, payload, ms):
        if seq not in self.crashed:
            self.referenced.add(payload["axis"])

    def _switch(self, seq, payload, ms):
        self.switches[payload["name"]] = bool(payload["on"])

    def _spindle(self, seq, payload, ms):
        self.facts.spindle_commands.append((seq, payload["command"]))

    def _offset(self, seq, payload, ms):
        self.facts.offset_events.append((seq, dict(payload)))

    def _load_stock(self, seq, payload, ms):
        self.facts.stick_out = payload.get("stick_out")

    def _mdi(self, seq, payload, ms):
        self.mdi_text = payload["text"]

    def _cycle_start(self, seq, payload, ms):
        """The run text as ``Panel._run_text`` builds it (MDI: the MDI program, then the library)."""
        number = self.editor.selected if self.mode == "MEM" else None
        texts = self.editor.store.texts
        order = ([number] if number in texts else []) + [n for n in sorted(texts) if n != number]
        parts = [texts[n] for n in order]
        if self.mode == "MDI":
            parts.insert(0, self.mdi_text)
        main = parts[0].count("\n") + 1 if parts else 0
        self.facts.starts.append(Start(seq, self.mode, number, "\n".join(parts), main, dict(self.switches),
                                       frozenset(self.referenced), ms or 0))

    # program memory: the panel accepted these, so the editor accepts them too
    def _program_text(self, seq, payload, ms):
        self.editor.replace_text(payload["number"], payload["text"])
        self.facts.program_saved_at[payload["number"]] = seq

    def _edit_key(self, seq, payload, ms):
        self.editor.press(payload["key"], payload.get("text") or "")
        if self.editor.selected is not None:
            self.facts.program_saved_at[self.editor.selected] = seq

    def _program_select(self, seq, payload, ms):
        self.editor.select(payload["number"])

    def _program_delete(self, seq, payload, ms):
        try:
            self.editor.store.delete(payload["number"])
        except EditRejected:
            return
        if self.editor.selected == payload["number"]:
            self.editor.selected = None
        self.facts.program_saved_at.pop(payload["number"], None)

    def _reset(self, seq, payload, ms):
        if self.mode == "EDIT":
            self.editor.reset()


def trace_facts(events: Iterable[Mapping[str, Any]], summary: Mapping[str, Any], axes: Sequence[str]) -> TraceFacts:
    """Fold the events the session accepted through the observer. ``summary["invalid_events"]`` lists the
    refused ones in event order, so both are walked side by side (a retransmitted duplicate is refused for
    its seq, which the walk sees itself)."""
    refused = list(summary.get("invalid_events", []))
    crashed = {entry.get("seq") for entry in summary.get("crashes", [])}
    observer = _Observer(axes, crashed)
    k, last = 0, None
    for event in events:
        seq = event.get("seq") if isinstance(event, Mapping) else None
        entry = refused[k] if k < len(refused) else {}
        matches = entry.get("seq") == seq and entry.get("type") == (event.get("type") if seq is not None else None)
        in_order = isinstance(seq, int) and not isinstance(seq, bool) and (last is None or seq > last)
        if not in_order:
            k += 1 if matches else 0
            continue
        if matches and "is not after" not in str(entry.get("reason", "")):
            k += 1
            last = seq                      # the panel takes the seq of an event it then rejects
            continue
        last = seq
        observer.see(event)
    observer.facts.final_programs = dict(observer.editor.store.texts)
    return observer.facts


__all__ = ["MACHINING_EVENTS", "Start", "TraceFacts", "event_ms", "trace_facts"]
