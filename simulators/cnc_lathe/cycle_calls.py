"""The interpreter's side of the canned cycles: read the cycle words, build the ns..nf shape, call cycles.py.

cycles.py (pure geometry) takes millimetres and radii; this module applies the decimal point rule and the
unit of each word:

====================  =================================================================================
G90/G92/G94           X(U) Z(W) R F, modal: a following block with X, Z, U or W repeats the cycle (R and
                      the lead kept). G92 F is the lead.
G71/G72 first block   U(Δd) / W(Δd) depth of cut (radius), R(e) retract: distance words
G71/G72 second block  P(ns) Q(nf) sequence numbers, U(Δu) diameter allowance (halved), W(Δw), F S T
G73 first block       U(Δi) radius, W(Δk), R(d) number of passes (a count, no unit)
G70                   P(ns) Q(nf)
G74/G75 first block   R(e) retract
G74/G75 second block  X(U) Z(W) P(Δi) Q(Δk) integers in least input increments, R(Δd) distance, F
G76 first block       P(m r a) packed integer, Q(Δdmin) integer increments, R(d) distance
G76 second block      X(U) Z(W) R(i) distance (radius), P(k) Q(Δd) integer increments, F lead
====================  =================================================================================

The first-block values are kept (as the control keeps them in parameters 5132–5143) until a new first block.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Optional

from ..core.alarms import Alarm
from ..core.lexer import Block
from ..core.words import METRIC_INCREMENT, INCH_INCREMENT, MM_PER_INCH, BlockWords, Value
from . import cycles
from .modal import SingleCycle
from .path import Segment

SHAPE_MOTIONS = ("G00", "G01", "G02", "G03")


def increments(plan, letter: str) -> Optional[float]:
    """A P/Q word that takes an integer in least input increments (µm in metric), in mm."""
    v: Optional[Value] = plan.value(letter)
    if v is None:
        return None
    if v.literal and v.has_point:
        raise Alarm("PS0007", plan.line, f"{letter} of this cycle is written without a decimal point", v.column)
    unit = INCH_INCREMENT * MM_PER_INCH if plan.modal.inch else METRIC_INCREMENT
    return round(v.number) * unit


def sequence(plan, letter: str) -> int:
    v = plan.value(letter)
    if v is None:
        raise Alarm("PS0061", plan.line, f"{letter} (sequence number) is missing in the cycle block")
    if v.literal and v.has_point:
        raise Alarm("PS0007", plan.line, f"{letter} is a sequence number", v.column)
    return int(round(v.number))


# ------------------------------------------------------------------------------------------ single cycles

def single_cycle(plan):
    """G90/G92/G94 (modal). Returns (segments, the cycle memory for the following blocks)."""
    code = plan.modal.motion
    memory = plan.cycle if plan.cycle is not None and plan.cycle.code == code else None
    if not plan.has_any("X", "Z", "U", "W"):
        return [], memory
    start = plan.program_position()
    base = (memory.x, memory.z) if memory is not None else start
    x, z = plan.target(start)
    if memory is not None:
        x = x if plan.has_any("X", "U") else base[0]
        z = z if plan.has_any("Z", "W") else base[1]
    r = plan.distance("R")
    taper = r if r is not None else (memory.r if memory is not None else 0.0)
    new_memory = SingleCycle(code, x, z, taper, plan.modal.feed if code == "G92" else 0.0)
    if code == "G90":
        plan.require_feed()
        return cycles.g90(start, (x, z), taper, plan.line), new_memory
    if code == "G94":
        plan.require_feed()
        return cycles.g94(start, (x, z), taper, plan.line), new_memory
    plan.require_feed()
    return cycles.g92(start, (x, z), taper, plan.modal.feed, plan.line), new_memory


# ------------------------------------------------------------------------------------------ G70 – G76

def multiple_cycle(plan) -> None:
    """Run G70–G76 on the plan: first blocks store parameters, second blocks emit their path.

    Tool-nose compensation: G70 follows the shape through the compensation (G40/G41/G42 inside the shape
    act as in the blocks themselves); G71–G73 started in G41/G42 rough along the compensated shape (the
    roughing moves themselves are not offset), G41/G42 inside the shape are effective in G70 only;
    G74–G76 need G40.
    """
    code = plan.one_shot
    if code == "G70":
        _g70(plan)
        return
    handler = {"G71": _g71, "G72": _g72, "G73": _g73, "G74": _g74, "G75": _g75, "G76": _g76}[code]
    segments = handler(plan)
    if not segments:
        return
    if code in ("G74", "G75", "G76"):
        plan.require_no_compensation()
        plan.path(segments)
    else:
        plan.emit_uncompensated(segments)


def _set_params(plan, **changes) -> None:
    plan.params = replace(plan.params, **changes)


def _g71(plan):
    if not plan.has_any("P", "Q"):
        _first_block(plan, "U", "g71_depth", "g71_retract")
        return []
    return _stock_removal(plan, cycles.g71, plan.params.g71_depth, plan.params.g71_retract)


def _g72(plan):
    if not plan.has_any("P", "Q"):
        _first_block(plan, "W", "g72_depth", "g72_retract")
        return []
    return _stock_removal(plan, cycles.g72, plan.params.g72_depth, plan.params.g72_retract)


def _first_block(plan, depth_letter: str, depth_name: str, retract_name: str) -> None:
    changes = {}
    if plan.has_any(depth_letter):
        changes[depth_name] = plan.distance(depth_letter)
    if plan.has_any("R"):
        changes[retract_name] = plan.distance("R")
    if changes:
        _set_params(plan, **changes)


def _allowances(plan) -> tuple:
    u = plan.distance("U")
    w = plan.distance("W")
    return ((u or 0.0) / 2.0, w or 0.0)


def _stock_removal(plan, function, depth: float, retract: float):
    start = plan.program_position()
    shape, type_ii = _roughing_shape(plan, start)
    ax, az = _allowances(plan)
    plan.require_feed()
    return function(start, shape, depth, retract, ax, az, plan.line, type_ii=type_ii)


def _g73(plan):
    if not plan.has_any("P", "Q"):
        changes = {}
        if plan.has_any("U"):
            changes["g73_relief_x"] = plan.distance("U")
        if plan.has_any("W"):
            changes["g73_relief_z"] = plan.distance("W")
        if plan.has_any("R"):
            changes["g73_divisions"] = int(round(plan.value("R").number))
        if changes:
            _set_params(plan, **changes)
        return []
    start = plan.program_position()
    shape, _ = _roughing_shape(plan, start)
    ax, az = _allowances(plan)
    plan.require_feed()
    p = plan.params
    return cycles.g73(start, shape, p.g73_relief_x, p.g73_relief_z, p.g73_divisions, ax, az, plan.line)


def _g70(plan) -> None:
    start = plan.program_position()
    shape, _, changes = collect_shape(plan, start, keep_feed=True, with_compensation=True)
    if plan.modal.feed <= 0 and any(seg.feed is None and seg.kind != "rapid" for seg in shape):
        raise Alarm("PS0011", plan.line, "G70 finishing with no F in the shape or before")
    path = cycles.g70(start, shape, plan.line)
    back = path[-1:] if path and path[-1].line == plan.line and path[-1].end == start else []
    contour = path[:len(path) - len(back)]
    by_identity = {id(shape[i]): change for i, change in changes.items()}
    plan.path(contour, {i: by_identity[id(seg)] for i, seg in enumerate(contour) if id(seg) in by_identity})
    # The offset ends beside the last shape block and the return to A is not offset; otherwise the return
    # (nearly opposite the last block) would cut that block short, which a FANUC control does not do.
    plan.finish_compensation()
    plan.emit_segments([replace(seg, start=plan.tool_position()) for seg in back])
    feeds = [seg.feed for seg in shape if seg.feed is not None]
    if feeds:      # as after executing the shape blocks: their last F stays modal
        plan.set_modal(feed=feeds[-1])


def _roughing_shape(plan, start: tuple) -> tuple:
    """The shape G71–G73 rough along: as programmed, or compensated when G41/G42 is active."""
    shape, type_ii = collect_shape(plan, start)
    if plan.modal.comp == "G40":
        return shape, type_ii
    from .interpreter import compensation_module
    module = compensation_module(plan.line)
    entry = plan.setup.offsets.get(plan.modal.offset)
    radius = entry.nose_radius if entry is not None else 0.0
    direction = entry.tip_direction if entry is not None else 0
    comp = module.NoseRadiusCompensator(41 if plan.modal.comp == "G41" else 42, radius, direction, plan.line)
    out = []
    for seg in shape:
        out += comp.feed(seg)
    return out + comp.finish(), type_ii


def _g74(plan):
    return _peck(plan, cycles.g74, "g74_retract")


def _g75(plan):
    return _peck(plan, cycles.g75, "g75_retract")


def _peck(plan, function, retract_name: str):
    if not plan.has_any("X", "Z", "U", "W"):
        if plan.has_any("R"):
            _set_params(plan, **{retract_name: plan.distance("R")})
        return []
    start = plan.program_position()
    end = plan.target(start)
    plan.require_feed()
    i = increments(plan, "P") or 0.0
    k = increments(plan, "Q") or 0.0
    relief = plan.distance("R") or 0.0
    retract = getattr(plan.params, retract_name)
    if function is cycles.g74:
        return function(start, end, k, i, relief, retract, plan.line)
    return function(start, end, i, k, relief, retract, plan.line)


def _g76(plan):
    if not plan.has_any("X", "Z", "U", "W"):
        changes = {}
        if plan.has_any("P"):
            v = plan.value("P")
            if v.literal and v.has_point:
                raise Alarm("PS0007", plan.line, "G76 P(m r a) is a packed integer", v.column)
            m, r, a = cycles.split_g76_p(int(round(v.number)))
            changes.update(g76_finish_passes=m, g76_chamfer_tenths=r, g76_tip_angle=a)
        if plan.has_any("Q"):
            changes["g76_min_depth"] = increments(plan, "Q")
        if plan.has_any("R"):
            changes["g76_finish_allowance"] = plan.distance("R")
        if changes:
            _set_params(plan, **changes)
        return []
    start = plan.program_position()
    end = plan.target(start)
    p = plan.params
    taper = plan.distance("R") or 0.0
    height = increments(plan, "P")
    first = increments(plan, "Q")
    if height is None or first is None:
        raise Alarm("PS0062", plan.line, "G76 needs P(k) thread height and Q(Δd) first depth")
    plan.require_feed()
    return cycles.g76(start, end, taper, height, first, p.g76_min_depth, p.g76_finish_allowance,
                      p.g76_finish_passes, p.g76_chamfer_tenths, p.g76_tip_angle, plan.modal.feed, plan.line)


# ------------------------------------------------------------------------------------------ the shape

def collect_shape(plan, start: tuple, keep_feed: bool = False, with_compensation: bool = False) -> tuple:
    """Blocks N p … N q as Segments from ``start`` (work frame, x radius). Returns (segments, type II?)
    and, ``with_compensation`` (G70), a third item: segment index → {"comp": G40/G41/G42, "speed": S} given
    in that segment's block (or in a block without motion before it). F and S of the shape are used in G70
    only (``keep_feed``); G71–G73 ignore them, as the control does.

    Checks: PS0065 the ns block has no G00/G01; PS0066 a code not allowed in the shape (one-shot G codes
    other than G04, M98/M99, S/T, cycles, macro statements, G41/G42); PS0063 sequence numbers missing.
    """
    p, q = sequence(plan, "P"), sequence(plan, "Q")
    blocks = plan.shape_blocks(p, q, plan.line)
    motion: Optional[str] = None
    feed: Optional[float] = None
    pos = start
    segments = []
    type_ii = False
    changes = {}
    pending_comp = None
    pending_speed = None
    evaluate = plan.evaluate_words
    for index, block in enumerate(blocks):
        if block.error is not None:
            raise block.error
        if block.statement is not None:
            raise Alarm("PS0066", block.line, "macro statements are not allowed in the ns..nf shape")
        if not block.words or (block.delete and plan.setup.block_delete):
            continue
        w: BlockWords = evaluate(block)
        _check_shape_block(w, block)
        g1 = w.g_in_group(1)
        if index == 0 and g1 not in ("G00", "G01"):
            raise Alarm("PS0065", block.line, "the ns block must give G00 or G01")
        if g1:
            motion = g1
        if "F" in w.values and keep_feed:
            feed = plan.rules.feed(w.values["F"], plan.modal.feed_per_rev)
        if w.g_in_group(7):
            pending_comp = w.g_in_group(7)
        if "S" in w.values and keep_feed:
            pending_speed = w.values["S"]
        if w.g_in_group(0) == "G04":
            continue
        sub = plan.shape_plan(w)
        if not sub.has_any("X", "Z", "U", "W"):
            continue
        end = sub.target(pos)
        if index == 0:
            type_ii = sub.has_any("X", "U") and sub.has_any("Z", "W")
        if motion == "G00":
            seg = Segment("rapid", pos, end, block.line)
        elif motion == "G01":
            seg = Segment("feed", pos, end, block.line, feed=feed)
        else:
            seg = replace(sub.arc(pos, end, motion == "G02"), feed=feed)
        if pending_comp is not None:
            if seg.kind == "arc":
                raise Alarm("PS0034", block.line, f"{pending_comp} cannot start or end on an arc")
            changes.setdefault(len(segments), {})["comp"] = pending_comp
            pending_comp = None
        if pending_speed is not None:
            if pending_speed.number < 0:
                raise Alarm("PS0006", block.line, "S cannot be negative", pending_speed.column)
            changes.setdefault(len(segments), {})["speed"] = pending_speed.number
            pending_speed = None
        segments.append(seg)
        pos = end
    if not segments:
        raise Alarm("PS0061", plan.line, f"no move between N{p} and N{q}")
    if with_compensation:
        return segments, type_ii, changes
    return segments, type_ii


def _check_shape_block(w: BlockWords, block: Block) -> None:
    for name, group, column in w.gcodes:
        if group == 0 and name != "G04":
            raise Alarm("PS0066", block.line, f"{name} is not allowed in the ns..nf shape", column)
        if group == 1 and name not in SHAPE_MOTIONS:
            raise Alarm("PS0066", block.line, f"{name} is not allowed in the ns..nf shape", column)
    for code in w.mcodes:
        raise Alarm("PS0066", block.line, f"M{code:02d} inside the ns..nf shape is not supported")
    if "T" in w.values:
        raise Alarm("PS0066", block.line, "T inside the ns..nf shape is not supported by this simulator",
                    w.values["T"].column)
