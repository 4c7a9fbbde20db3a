# CONTRACT: stable
"""The machine-independent FANUC operator panel: a deterministic state machine folded over trace events.

:class:`Panel` owns what every machine shares — power, emergency stop, reset and alarms, the mode selector with
its interlocks, switches and overrides, reference return bookkeeping, program memory, MDI, automatic operation
(:mod:`simulators.core.automatic`) and the virtual clock. Everything that depends on the machine (axes, positions,
manual moves that cut the stock, the interpreter, offset pages, instruments, stock, tools) sits behind
:class:`MachineModel`; the lathe and the mill sessions each implement one.

Rules the panel keeps (docs/operation.md):

* an event is checked against the schema (:mod:`simulators.core.trace`); a bad or ignored event is recorded with
  no effect and the reply says why (``ok: False``), as a key that the current mode ignores does nothing;
* no wall clock: virtual time advances by the seconds of motions and manual moves;
* automatic operation is lazy: cycle start plans the run; an event carrying ``payload.at_ms`` while it plays cuts
  the stock up to that playback position; any other event first lets the run finish.
"""
from __future__ import annotations

import math
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .alarms import Alarm
from .automatic import AutoRun, RunOptions, motion_dict
from .motion import Motion
from .editor import Editor, EditRejected, EditResult, ProgramStore
from .editor_units import check
from .trace import MODES, PANEL_TYPES, problem

MANUAL_MODES = ("JOG", "INC", "HANDLE", "REF")
AUTO_MODES = ("MEM", "MDI")
HANDLE_STEPS = (0.001, 0.01, 0.1)          # handle ×1, ×10, ×100
INC_STEPS = (0.001, 0.01, 0.1, 1.0)
RAPID_OVERRIDES = {0: 5.0, 25: 25.0, 50: 50.0, 100: 100.0}   # F0 taken as 5 % (parameter 1421 on the machine)
MAX_JOG_MS = 600_000                     # one jog event: at most 10 minutes held
MAX_HANDLE_PULSES = 100_000              # one handle event: at most 1,000 turns of 100 pulses
COLLISION = {"code": "EX1100", "message": "COLLISION (SIMULATOR)"}   # machine-builder alarm: stop, reset needed


class KeyInError(ValueError):
    """Keyed text the MDI unit refuses; ``str()`` is the screen's warning."""


@dataclass(frozen=True)
class Keyed:
    """What the operator keyed in on an offset page: an optional address letter and a value in mm."""

    axis: str | None
    value: float


LEAST_INPUT_INCREMENT = 0.001          # mm (IS-B): a keyed number without a decimal point counts in these
_KEYED = re.compile(r"^([A-Za-z])?\s*([+-]?(?:\d+\.?\d*|\.\d+))$")


def parse_keyed(text: str, decimal_point_input: bool = False, integer: bool = False) -> Keyed:
    """Offset page key-in, one parser for every machine: ``"X-5."`` → Keyed('X', -5.0); ``"0.02"`` → 0.02 mm;
    ``"50"`` → 0.050 mm (no decimal point: least input increments, the classic slip), unless the control has
    pocket-calculator input (parameter DPI, ``decimal_point_input``) or the field is an integer (lathe T)."""
    match = _KEYED.match(str(text).strip())
    if match is None:
        raise KeyInError("FORMAT ERROR")
    letter, number = match.groups()
    if integer:
        if "." in number:
            raise KeyInError("FORMAT ERROR")
        value = float(int(number))
    elif "." in number or decimal_point_input:
        value = float(number)
    else:
        value = int(number) * LEAST_INPUT_INCREMENT
    return Keyed(letter.upper() if letter else None, value)


class Rejected(Exception):
    """The control ignores the event (wrong mode, interlock, bad value): recorded, no effect."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


@dataclass
class ManualResult:
    """What a manual move (jog, step, handle, reference return) did: its motions (already applied to the stock),
    the crashes they caused, the seconds it took and an overtravel alarm when it stopped at a soft limit."""

    motions: list = field(default_factory=list)
    crashes: list = field(default_factory=list)
    seconds: float = 0.0
    alarm: Alarm | None = None


class MachineModel(ABC):
    """The machine-specific half of a session. Positions on the screen are dicts axis → value in screen units
    (the lathe shows X as a diameter); machine distances are in the motion frame (the lathe's x is a radius)."""

    axes: tuple[str, ...] = ()
    event_types: Mapping[str, Mapping[str, Any]] = {}      # the machine's own events (trace specs)
    max_spindle_rpm: float = math.inf                      # the spindle override never exceeds it
    spindle_override: float = 100.0                        # %, kept up to date by the panel (manual moves)
    decimal_point_input: bool = False                      # parameter DPI: keyed numbers without a point are mm
    integer_fields: frozenset[str] = frozenset()           # offset page fields keyed as integers (lathe T)

    # -- positions
    @abstractmethod
    def machine_position(self) -> dict[str, float]:
        """Machine coordinates on the screen."""

    @abstractmethod
    def absolute_position(self) -> dict[str, float]:
        """Work (absolute) coordinates of the active tool on the screen."""

    @abstractmethod
    def screen_point(self, point: tuple) -> dict[str, float]:
        """A machine point of a motion as machine coordinates on the screen."""

    @abstractmethod
    def screen_scale(self, axis: str) -> float:
        """Machine mm per screen mm on ``axis`` (lathe X on diameter: 0.5)."""

    @abstractmethod
    def rapid_rate(self, axis: str) -> float:
        """Rapid traverse of ``axis`` in machine mm/min at 100 %."""

    # -- manual operation
    @abstractmethod
    def manual_move(self, axis: str, distance: float, feed_mm_min: float, rapid: bool,
                    referenced: bool) -> ManualResult:
        """Move ``axis`` by ``distance`` machine mm, cutting the stock like a program move; stop at the stroke
        limit with an OT alarm once the axis is referenced."""

    @abstractmethod
    def reference_return(self, axis: str) -> ManualResult:
        """Return ``axis`` to the reference position (a move, so it may crash)."""

    @abstractmethod
    def spindle(self, direction: int, rpm: float | None) -> None:
        """Manual spindle CW (+1) / CCW (-1) / stop (0); ``rpm`` None: the last S. Raise Rejected if impossible."""

    @abstractmethod
    def coolant(self, on: bool) -> None:
        """Coolant on/off."""

    @abstractmethod
    def reset(self) -> None:
        """RESET: spindle and coolant stop (as the machine builder's ladder does)."""

    @abstractmethod
    def power_off(self) -> None:
        """Spindle and coolant stop; the machine keeps stock, tools, offsets."""

    def cycle_start_interlock(self) -> str | None:
        """Why a machine interlock (chuck open, door…) refuses cycle start; None when it allows it."""
        return None

    # -- automatic operation
    @abstractmethod
    def interpreter(self, text: str, options: RunOptions):
        """A ProgramRunner for ``text`` starting from the machine's current position and modal state."""

    @abstractmethod
    def apply_motion(self, motion: Motion) -> list:
        """Execute one motion of a run: cut the stock, follow the spindle/coolant/tool it carries; its crashes."""

    @abstractmethod
    def adopt(self, interpreter, played, final: bool, complete: bool) -> None:
        """Take ``played``, the interpreter's state after the last block whose motions have all played (the plan
        runs ahead of the playback: a T code or G10 planned but not played never happened). Called as the run
        advances (``final`` False) and when it stops (``final``: reset, alarm, crash, program end, power off).
        ``complete``: every planned motion played. What the played motions carry (spindle, coolant, tool) stays
        as they left it; the position stays where they took it."""

    def run_state(self, interpreter):
        """The interpreter's state after the block it just ran, as :meth:`adopt` will take it (kept per block)."""
        return interpreter.state

    def spindle_override_rule(self, state) -> str:
        """How the spindle override acts on the motions of a block run under ``state`` (automatic.py):
        ``per_rev`` (feed per revolution follows the spindle), ``per_min`` (only the rpm) or ``fixed``."""
        return "per_min"

    @abstractmethod
    def split(self, motion: Motion, fraction: float) -> tuple[Motion, Motion]:
        """``motion`` cut at ``fraction`` of its time: the done part and the rest."""

    # -- pages, instruments, machine events
    @abstractmethod
    def offset_input(self, page: str, number: Any, axis: str, value: float, op: str) -> dict:
        """An offset page input (INPUT sets, +INPUT adds, MEASURE). Returns the changed line."""

    def offset_amendment(self, page: str, number: Any, axis: str, value: float,
                         op: str) -> Callable[[Any], Any] | None:
        """The same input as a change of a run's interpreter state, for a machine whose interpreter carries the
        offset pages in its state (the mill: G10 writes them); None when a run does not hold them."""
        return None

    @abstractmethod
    def measure(self, instrument: str, placement: Mapping[str, Any]) -> dict:
        """A reading of a virtual instrument on the current stock."""

    @abstractmethod
    def machine_event(self, type_: str, payload: Mapping[str, Any], panel: "Panel") -> dict:
        """One of :attr:`event_types` (chuck, stock, tools…). Raise Rejected to ignore it."""

    # -- what the browser and the grader see
    @abstractmethod
    def modal_view(self) -> dict:
        """Modal state, spindle, feed, tool."""

    @abstractmethod
    def view(self) -> dict:
        """Stock, tools, offsets: the machine's whole state."""

    @abstractmethod
    def stock_change(self) -> dict | None:
        """The stock as the browser draws it, when it changed since the last call; else None."""

    @abstractmethod
    def summary(self, items: Iterable[Any], work_zero: Any = None) -> dict:
        """Offsets and their errors against the truth, measurements of the final stock for ``items``
        (``work_zero``: the task's work zero, as the machine's items module takes it)."""


class Panel:
    """The operator panel of one machine; :meth:`apply` folds one event and returns the browser's update."""

    def __init__(self, model: MachineModel):
        self.model = model
        self.types = {**PANEL_TYPES, **model.event_types}
        self.power = False
        self.estop = False
        self.mode = "JOG"
        self.referenced: set[str] = set()
        self.active_alarms: list[dict] = []
        self.alarm_log: list[dict] = []
        self.crashes: list[dict] = []
        self.switches = {"single_block": False, "optional_stop": False, "block_delete": False, "dry_run": False,
                         "machine_lock": False}
        self.overrides = {"feed": 100.0, "rapid": 100.0, "spindle": 100.0, "jog_feed": 1000.0}
        self.increment = 0.001
        self.handle_axis = model.axes[0]
        self.relative_zero = {axis: 0.0 for axis in model.axes}
        self.programs = ProgramDirectory(self)
        self.mdi_text = ""
        self.run: AutoRun | None = None
        self.time_s = 0.0
        self.last_seq: int | None = None
        self.events = 0
        self.invalid: list[dict] = []
        self.seq = 0
        self.quiet = False             # replay: apply() answers only seq, type, ok, reason, result
        self._animate: list[dict] = []
        self._new_alarms: list[dict] = []
        self._new_crashes: list[dict] = []

    # ------------------------------------------------------------------------------------------ folding
    def apply(self, event: Any) -> dict:
        self.events += 1
        self._animate, self._new_alarms, self._new_crashes = [], [], []
        reason = problem(event, self.types)
        if reason is None and self.last_seq is not None and event["seq"] <= self.last_seq:
            reason = f"seq {event['seq']} is not after {self.last_seq} (duplicate or out of order)"
        if reason is not None:
            return self._record_invalid(event, reason)
        self.seq = self.last_seq = event["seq"]
        payload = event["payload"]
        type_ = event["type"]
        self._advance_run(payload.get("at_ms"))
        try:
            result = self._dispatch(type_, payload) or {}
            ok, why = True, None
        except Rejected as rejected:
            result, ok, why = {}, False, rejected.reason
            self.invalid.append({"seq": self.seq, "type": type_, "reason": why})
        return self._reply(type_, ok, why, result)

    def _record_invalid(self, event: Any, reason: str) -> dict:
        seq = event.get("seq") if isinstance(event, Mapping) else None
        type_ = event.get("type") if isinstance(event, Mapping) else None
        self.invalid.append({"seq": seq, "type": type_, "reason": reason})
        return self._reply(type_ if isinstance(type_, str) else None, False, reason, {})

    def _dispatch(self, type_: str, payload: Mapping[str, Any]) -> dict | None:
        if type_ == "power":
            return self._power(payload["on"])
        if not self.power:
            raise Rejected("the control is off")
        if type_ == "estop":
            return self._estop(payload["pressed"])
        handler = getattr(self, "_on_" + type_, None)
        if handler is not None:
            return handler(payload)
        return self.model.machine_event(type_, payload, self)

    def _reply(self, type_: str | None, ok: bool, reason: str | None, result: dict) -> dict:
        reply = {"seq": self.seq, "type": type_, "ok": ok, "reason": reason, "result": result}
        if self.quiet:                 # folding a trace: nobody reads the update (the stock change stays pending)
            return reply
        reply.update(self._status())
        reply["stock"] = self.model.stock_change()
        reply["motions"] = self._animate
        reply["new_alarms"] = self._new_alarms
        reply["new_crashes"] = self._new_crashes
        return reply

    # ------------------------------------------------------------------------------------------ views
    def _status(self) -> dict:
        machine = self.model.machine_position()
        run = self.run
        return {
            "power": self.power, "estop": self.estop, "mode": self.mode,
            "status": run.status if run is not None else "idle",
            "referenced": sorted(self.referenced),
            "alarms": list(self.active_alarms),
            "position": {"absolute": self.model.absolute_position(), "machine": machine,
                         "relative": {a: machine[a] - self.relative_zero[a] for a in self.model.axes},
                         "distance_to_go": self._distance_to_go(machine)},
            "modal": self.model.modal_view(),
            "program": {"selected": self.programs.selected, "running": run.program if run else None,
                        "line": run.line if run else 0, "block": run.block_text() if run else "",
                        "mdi": self.mdi_text},
            "switches": dict(self.switches), "overrides": dict(self.overrides),
            "increment": self.increment, "handle_axis": self.handle_axis, "time_s": round(self.time_s, 6),
        }

    def _distance_to_go(self, machine: dict) -> dict:
        if self.run is None or not self.run.pending:
            return {a: 0.0 for a in self.model.axes}
        end = self.model.screen_point(self.run.pending[0][0].end)
        return {a: end[a] - machine[a] for a in self.model.axes}

    def view(self) -> dict:
        out = self._status()
        out.update({"seq": self.seq, "machine": self.model.view(), "programs": self.programs.view(),
                    "pending_motions": [motion_dict(m, s) for m, s in self.run.pending_motions()] if self.run else [],
                    "crashes": list(self.crashes)})
        return out

    def summary(self, items: Iterable[Any] = (), work_zero: Any = None) -> dict:
        """Alarms and crashes with their event seq, the virtual time, and the machine's summary (offsets and
        their errors, measurements of ``items``; ``work_zero`` as the task gives it, passed on when given)."""
        out = {"alarms": list(self.alarm_log), "crashes": list(self.crashes), "time_s": round(self.time_s, 6),
               "events": self.events, "invalid_events": list(self.invalid)}
        extra = {} if work_zero is None else {"work_zero": work_zero}
        out.update(self.model.summary(items, **extra))
        return out

    # ------------------------------------------------------------------------------------------ alarms
    def raise_alarm(self, alarm: Alarm | dict) -> None:
        entry = alarm.to_dict() if isinstance(alarm, Alarm) else dict(alarm)
        entry["seq"] = self.seq
        self.active_alarms.append(entry)
        self.alarm_log.append(entry)
        self._new_alarms.append(entry)

    def record_crashes(self, crashes: list) -> None:
        if not crashes:
            return
        for crash in crashes:
            entry = crash.to_dict() if hasattr(crash, "to_dict") else dict(crash)
            entry["seq"] = self.seq
            self.crashes.append(entry)
            self._new_crashes.append(entry)
        self._stop_run()
        self.raise_alarm(COLLISION)

    # ------------------------------------------------------------------------------------------ power, reset
    def _power(self, on: bool) -> dict:
        if on == self.power:
            raise Rejected("the control is already " + ("on" if on else "off"))
        self._stop_run()
        self.power = on
        if not on:
            self.model.power_off()
            self.referenced.clear()
            self.active_alarms.clear()
            self.estop = False
        return {}

    def _estop(self, pressed: bool) -> dict:
        if pressed == self.estop:
            raise Rejected("the emergency stop is already " + ("pressed" if pressed else "released"))
        self.estop = pressed
        if pressed:
            self._stop_run()
            self.model.reset()
        return {}

    def _on_reset(self, payload) -> dict:
        self._stop_run()
        self.model.reset()
        self.active_alarms.clear()
        if self.mode == "EDIT":
            self.programs.reset()
        return {}

    def _stop_run(self) -> None:
        run = self.run
        if run is not None:
            self.programs.unlock(run.program)
            self.model.adopt(run.interpreter, run.played_state(), final=True, complete=run.complete)
            if run.kind == "MDI" and run.status != "held":
                self.mdi_text = ""
            self.run = None

    def _require_ready(self) -> None:
        if self.estop:
            raise Rejected("emergency stop")

    # ------------------------------------------------------------------------------------------ mode, switches
    def _on_mode(self, payload) -> dict:
        mode = payload["mode"]
        if mode == self.mode:
            raise Rejected(f"already in {mode}")
        if self.run is not None and self.run.status == "running":
            self.run.hold()
        self.mode = mode
        return {}

    def _on_switch(self, payload) -> dict:
        self.switches[payload["name"]] = payload["on"]
        if self.run is not None and self.run.status == "running":
            self.run.retime(self._run_options(), self._animate)
        return {}

    def _on_override(self, payload) -> dict:
        which, value = payload["which"], float(payload["value"])
        if which == "feed" and not (0 <= value <= 150 and value % 10 == 0):
            raise Rejected("feed override goes 0–150 % in steps of 10")
        if which == "rapid" and value not in RAPID_OVERRIDES:
            raise Rejected("rapid override is F0 (0), 25, 50 or 100 %")
        if which == "spindle" and not (50 <= value <= 120 and value % 10 == 0):
            raise Rejected("spindle override goes 50–120 % in steps of 10")
        if which == "jog_feed" and not 0 <= value <= 1260:
            raise Rejected("jog feed goes 0–1260 mm/min")
        self.overrides[which] = value
        if which == "spindle":
            self.model.spindle_override = value
        if self.run is not None and self.run.status == "running":
            self.run.retime(self._run_options(), self._animate)
        return {}

    def _run_options(self) -> RunOptions:
        return RunOptions(block_delete=self.switches["block_delete"], dry_run=self.switches["dry_run"],
                          machine_lock=self.switches["machine_lock"], single_block=self.switches["single_block"],
                          optional_stop=self.switches["optional_stop"], feed_override=self.overrides["feed"],
                          rapid_override=RAPID_OVERRIDES[int(self.overrides["rapid"])],
                          spindle_override=self.overrides["spindle"], jog_feed=self.overrides["jog_feed"])

    # ------------------------------------------------------------------------------------------ manual operation
    def _manual_allowed(self, mode: str) -> None:
        self._require_ready()
        if self.mode != mode:
            raise Rejected(f"ignored in {self.mode} mode (needs {mode})")
        if self.run is not None:
            raise Rejected("automatic operation is not finished: reset first")

    def _axis(self, axis: str) -> str:
        if axis not in self.model.axes:
            raise Rejected(f"no axis {axis!r} on this machine")
        return axis

    def _on_ref_return(self, payload) -> dict:
        axis = self._axis(payload["axis"])
        self._manual_allowed("REF")
        result = self.model.reference_return(axis)
        self._manual_done(result)
        if not result.crashes:
            self.referenced.add(axis)
        return {"axis": axis}

    def _on_jog(self, payload) -> dict:
        axis = self._axis(payload["axis"])
        self._manual_allowed("JOG")
        rapid = bool(payload.get("rapid"))
        if rapid and axis not in self.referenced:
            raise Rejected("rapid traverse is disabled before reference return")
        if not 0 <= payload["ms"] <= MAX_JOG_MS:
            raise Rejected(f"a jog lasts 0–{MAX_JOG_MS} ms")
        if rapid:
            rate = self.model.rapid_rate(axis) * RAPID_OVERRIDES[int(self.overrides["rapid"])] / 100.0
        else:
            rate = self.overrides["jog_feed"]
        distance = payload["direction"] * rate * payload["ms"] / 60000.0
        result = self.model.manual_move(axis, distance, rate, rapid, axis in self.referenced)
        result.seconds = max(result.seconds, payload["ms"] / 1000.0)
        self._manual_done(result)
        return {"distance": distance}

    def _on_step(self, payload) -> dict:
        axis = self._axis(payload["axis"])
        self._manual_allowed("INC")
        if self.increment not in INC_STEPS:
            raise Rejected("no such increment")
        distance = payload["direction"] * self.increment * self.model.screen_scale(axis)
        rate = self.overrides["jog_feed"]
        self._manual_done(self.model.manual_move(axis, distance, rate, False, axis in self.referenced))
        return {"distance": distance}

    def _on_handle(self, payload) -> dict:
        axis = self.handle_axis
        self._manual_allowed("HANDLE")
        if abs(payload["pulses"]) > MAX_HANDLE_PULSES:
            raise Rejected(f"at most {MAX_HANDLE_PULSES} pulses in one event")
        step = self.increment if self.increment in HANDLE_STEPS else HANDLE_STEPS[-1]
        distance = payload["pulses"] * step * self.model.screen_scale(axis)
        # a handwheel turned at about 2 pulses per 10 ms: the feed that covers the distance in that time
        seconds = abs(payload["pulses"]) * 0.005
        rate = abs(distance) / seconds * 60.0 if seconds > 0 else 0.0
        self._manual_done(self.model.manual_move(axis, distance, rate, False, axis in self.referenced))
        return {"distance": distance}

    def _on_increment(self, payload) -> dict:
        self.increment = float(payload["mm"])
        return {}

    def _on_handle_axis(self, payload) -> dict:
        self.handle_axis = self._axis(payload["axis"])
        return {}

    def _on_origin(self, payload) -> dict:
        axis = self._axis(payload["axis"])
        self.relative_zero[axis] = self.model.machine_position()[axis]
        return {}

    def _manual_done(self, result: ManualResult) -> None:
        self.time_s += result.seconds
        if not self.quiet:             # the animation is for the browser only
            self._animate.extend(motion_dict(m, m.seconds) for m in result.motions)
        if result.alarm is not None:
            self.raise_alarm(result.alarm)
        self.record_crashes(result.crashes)

    def _on_spindle(self, payload) -> dict:
        self._require_ready()
        if self.mode not in MANUAL_MODES:
            raise Rejected(f"spindle keys work in manual modes, not {self.mode}")
        if self.run is not None:
            raise Rejected("automatic operation is not finished: reset first")
        direction = {"cw": 1, "ccw": -1, "stop": 0}[payload["command"]]
        self.model.spindle(direction, payload.get("rpm"))
        return {}

    def _on_coolant(self, payload) -> dict:
        self._require_ready()
        self.model.coolant(payload["on"])
        return {}

    # ------------------------------------------------------------------------------------------ pages, instruments
    def _on_offset(self, payload) -> dict:
        self._require_ready()
        axis, value = self._offset_value(payload, payload["axis"].upper())
        page, number, op = payload["page"], payload["number"], payload["op"]
        result = self.model.offset_input(page, number, axis, value, op)
        change = self.model.offset_amendment(page, number, axis, value, op) if self.run is not None else None
        if change is not None:
            self.run.amend(change)
        return result

    def _offset_value(self, payload, axis: str) -> tuple[str, float]:
        """The axis and the value in mm: from ``text`` (what the candidate typed, read with the decimal-point rule;
        an address letter in it names the axis, as on the control) or else ``axis`` and ``value``."""
        text = payload.get("text")
        if text is None:
            if payload.get("value") is None:
                raise Rejected("offset input needs value or text")
            return axis, float(payload["value"])
        letter = text.strip()[:1].upper()
        axis = letter if letter.isalpha() else axis
        try:
            keyed = parse_keyed(text, self.model.decimal_point_input, axis in self.model.integer_fields)
        except KeyInError as error:
            raise Rejected(str(error)) from None
        return axis, keyed.value

    def _on_measure(self, payload) -> dict:
        instrument = payload["instrument"]
        reading = self.model.measure(instrument, payload.get("placement") or {})
        self._instrument_crash(instrument, reading)
        return reading

    def _instrument_crash(self, instrument: str, reading: Mapping[str, Any]) -> None:
        """A setter pressed past its travel (``crash``) or an edge finder driven into the stock (``in_material``)
        is a crash of the instrument, on either machine (docs/instruments.md)."""
        if reading.get("crash") or reading.get("state") == "in_material":
            why = reading.get("message") or "in material"
            self.record_crashes([{"kind": "instrument_crash", "line": 0, "detail": f"{instrument}: {why}"}])

    # ------------------------------------------------------------------------------------------ programs
    def _editing(self) -> None:
        if self.mode != "EDIT":
            raise Rejected(f"program editing needs EDIT mode, not {self.mode}")

    def _running_program(self) -> int | None:
        return self.run.program if self.run is not None and self.run.kind == "MEM" else None

    def _on_program_text(self, payload) -> dict:
        self._editing()
        number = payload["number"]
        if number == self._running_program():
            raise Rejected("the program is in operation (reset first)")
        return self.programs.replace_text(number, payload["text"])

    def _on_program_select(self, payload) -> dict:
        if self.mode not in ("EDIT", "MEM"):
            raise Rejected(f"program search needs EDIT or MEM mode, not {self.mode}")
        if self.run is not None:
            raise Rejected("automatic operation is not finished: reset first")
        return self.programs.select(payload["number"])

    def _on_program_delete(self, payload) -> dict:
        self._editing()
        if payload["number"] == self._running_program():
            raise Rejected("the program is in operation (reset first)")
        return self.programs.delete(payload["number"])

    def _on_program_check(self, payload) -> dict:
        return self.programs.check(payload.get("number"))

    def _on_edit_key(self, payload) -> dict:
        self._editing()
        if self._running_program() is not None and self._running_program() == self.programs.selected:
            raise Rejected("the program is in operation (reset first)")
        return self.programs.key(payload["key"], payload.get("text"))

    def _on_mdi(self, payload) -> dict:
        if self.mode != "MDI":
            raise Rejected(f"the MDI program is keyed in MDI mode, not {self.mode}")
        if self.run is not None:
            raise Rejected("automatic operation is not finished: reset first")
        self.mdi_text = payload["text"]
        return {}

    # ------------------------------------------------------------------------------------------ automatic
    def _on_cycle_start(self, payload) -> dict:
        self._require_ready()
        if self.mode not in AUTO_MODES:
            raise Rejected(f"cycle start works in MEM or MDI, not {self.mode}")
        if self.active_alarms:
            raise Rejected("alarm: reset first")
        run = self.run
        if run is not None:
            if run.kind != self.mode:
                raise Rejected(f"the {run.kind} operation in progress continues in {run.kind} mode")
            if run.status == "waiting":
                raise Rejected("the machine waits (" + run.wait_reason + "): reset")
            if run.status == "running":
                raise Rejected("already running")
            self._check_interlock()
            run.resume(self._run_options(), self._animate)
            self._settle_if_empty()
            return {}
        missing = [a for a in self.model.axes if a not in self.referenced]
        if missing:
            self.raise_alarm(Alarm("PS0224", 0, "reference return not done on " + ", ".join(missing)))
            return {}
        self._check_interlock()
        text, number = self._run_text()
        interpreter = self.model.interpreter(text, self._run_options())
        self.run = AutoRun(self.mode, number, interpreter, self.model, text)
        self.programs.lock(number)
        self.run.resume(self._run_options(), self._animate)
        self._settle_if_empty()
        return {}

    def _settle_if_empty(self) -> None:
        """A plan without motions (macro statements, a modal block in single block) ends at once."""
        if self.run is not None and not self.run.pending:
            self._advance_run(None)

    def _check_interlock(self) -> None:
        interlock = self.model.cycle_start_interlock()
        if interlock is not None:
            raise Rejected(interlock)

    def _run_text(self) -> tuple[str, int]:
        if self.mode == "MDI":
            if not self.mdi_text.strip():
                raise Rejected("no MDI program")
            return self.mdi_text + "\n" + self.programs.library_text(None), 0
        number = self.programs.selected
        if number is None or not self.programs.exists(number):
            raise Rejected("no program selected")
        return self.programs.library_text(number), number

    def _on_feed_hold(self, payload) -> dict:
        if self.run is None or self.run.status != "running":
            raise Rejected("feed hold works during automatic operation")
        self.run.hold()
        return {}

    def _advance_run(self, at_ms: int | None) -> None:
        """Let the playing run reach ``at_ms`` (or its end), cutting the stock; settle what its end means."""
        run = self.run
        if run is None or run.status != "running":
            return
        outcome = run.advance(at_ms)
        self.time_s += outcome.seconds
        self.record_crashes(outcome.crashes)
        if outcome.alarm is not None:
            self.raise_alarm(outcome.alarm)
        if outcome.finished and self.run is run:
            if run.status in ("ended", "alarm"):
                self._stop_run()


class ProgramDirectory:
    """Program memory as the panel uses it: the EDIT screen of :mod:`simulators.core.editor` (O-number directory,
    MDI-key editing, the browser's whole-text save, background check), the program to run and its lock."""

    def __init__(self, panel: "Panel"):
        self.panel = panel
        self.editor = Editor(ProgramStore())

    @property
    def selected(self) -> int | None:
        return self.editor.selected

    def exists(self, number: int) -> bool:
        return number in self.editor.store

    def _result(self, result) -> dict:
        if result.alarm is not None:
            self.panel.raise_alarm(result.alarm)
        if not result.ok:
            raise Rejected(" ".join(x for x in (result.message, result.detail) if x) or "EDIT REJECTED")
        return {"editor": self.editor.view()}

    def replace_text(self, number: int, text: str) -> dict:
        out = self._result(self.editor.replace_text(number, text))
        out["alarms"] = [a.to_dict() for a in check(self.editor.store.text(number), self._known())]
        return out

    def select(self, number: int) -> dict:
        return self._result(self.editor.select(number))

    def delete(self, number: int) -> dict:
        try:
            self.editor.store.delete(number)
        except EditRejected as rejected:
            return self._result(EditResult(False, rejected.message, rejected.alarm, rejected.detail))
        if self.editor.selected == number:
            self.editor.selected = None
        return {"number": number}

    def check(self, number: int | None) -> dict:
        number = self.selected if number is None else number
        if number is None or not self.exists(number):
            raise Rejected("no such program")
        alarms = check(self.editor.store.text(number), self._known())
        return {"number": number, "alarms": [a.to_dict() for a in alarms]}

    def key(self, key: str, text: str | None) -> dict:
        return self._result(self.editor.press(key, text or ""))

    def reset(self) -> None:
        self.editor.reset()

    def lock(self, number: int) -> None:
        if number:
            self.editor.store.lock(number)

    def unlock(self, number: int) -> None:
        self.editor.store.unlock(number)

    def _known(self) -> frozenset:
        return frozenset(self.editor.store.texts)

    def library_text(self, first: int | None) -> str:
        """The program to run first, then every other stored program (found by M98/G65)."""
        texts = self.editor.store.texts
        order = ([first] if first is not None else []) + [n for n in sorted(texts) if n != first]
        return "\n".join(texts[n] for n in order)

    def view(self) -> dict:
        return self.editor.view()


def fold(panel_factory, events: Iterable[Any]):
    """Apply every event to a new session built by ``panel_factory()``; returns the session."""
    session = panel_factory()
    for ev in events:
        session.apply(ev)
    return session


__all__ = ["Panel", "MachineModel", "ManualResult", "Rejected", "MODES", "MANUAL_MODES", "AUTO_MODES",
           "COLLISION", "ProgramDirectory", "fold", "Keyed", "KeyInError", "parse_keyed", "LEAST_INPUT_INCREMENT"]
