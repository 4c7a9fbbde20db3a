"""The workpiece in the chuck: applies canonical motions to the exact stock and detects crashes.

Frames: a :class:`~simulators.core.motion.Motion` holds machine coordinates ``(x radius, z)`` of the
turret reference point; the tool's imaginary tip is that point plus ``tool.tip_vector``; the stock, the
chuck and every measurement live in the default setup's WORK frame, ``work = machine - part_origin``,
written ``(z, r)`` inside the stock model. Jaw faces are at machine z = 0, i.e. work z = -part_origin z.

Rules (see the issue, "Machine, tools and stock"):

* feed, arc: external tools lower the outer profile to the lower envelope of the swept tool, internal
  tools (boring bar, drill) raise the inner profile to its upper envelope;
* thread: the pass is recorded in a helical thread zone (the profile is not lowered) with the groove its
  insert cuts; only the tool's non-cutting parts are checked. Later rapid and feed moves of a tool that
  cut a thread zone do not cut inside that zone's z range (the tool enters and leaves along its own
  groove). Internal threads raise PS0010 (not modelled);
* crashes (``Crash.kind``): ``rapid_into_stock``; ``non_cutting_contact`` (holder, shank, bar, an insert's
  back or top face, the rubbing part of an end edge: see ``tools.py`` for what cuts); ``chuck_contact``;
  ``spindle_stopped_cut`` (material removed with the spindle at 0 rpm); ``too_deep`` (the grooving holder
  above the blade's reach cuts into material, or the drill shank behind the flutes touches it: the shank
  is as wide as the hole, so touching counts there). Contact closer than ``CONTACT_TOL`` (1e-6 mm) in
  depth or in width is not a crash. A crashing move still removes what it swept (the profile shows the
  damage); the caller stops the run.
* non-cutting parts are checked twice: the lower envelope of the swept tool tells which part made the new
  surface (:meth:`Workpiece._classify`), and, because everything above that envelope counts as removed
  whoever got there, the non-cutting faces leading each feed, arc or thread move are swept on their own
  and checked against the material present BEFORE the move (:mod:`leading`, :meth:`Workpiece._face_hits`).
* the sides of a grooving blade cut up to the blade width above its bottom (lateral turning), so a sideways
  move at a shallower depth is a cut; deeper, the sides rub. The other turret stations and the turret body
  are not modelled.
* a move with a station that holds no tool cuts nothing.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..core.motion import Motion
from . import leading
from . import stock as st
from .tools import Tool, default_tools

CONTACT_TOL = 1e-6   # mm
CUTTING_KINDS = ("feed", "arc", "thread")


@dataclass(frozen=True)
class StockSpec:
    """Bar stock: diameter and length in mm, material, stick-out from the jaw faces, optional bore."""

    diameter: float = 50.0
    length: float = 100.0
    material: str = "45 steel"
    stick_out: float = 70.0
    bore_diameter: float = 0.0

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StockSpec:
        known = {"diameter", "length", "material", "stick_out", "bore_diameter"}
        extra = set(data) - known
        if extra:
            raise KeyError(f"unknown stock key {min(extra)!r}")
        values = {k: (str(v) if k == "material" else float(v)) for k, v in data.items()}
        spec = cls(**values)
        if spec.diameter <= 0 or spec.length <= 0 or not 0 <= spec.bore_diameter < spec.diameter:
            raise ValueError("stock: diameter and length must be positive, bore smaller than diameter")
        if not 0 < spec.stick_out <= spec.length:
            raise ValueError("stock: stick_out must be within the stock length")
        return spec


@dataclass(frozen=True)
class ChuckSpec:
    """Three-jaw chuck (K11-200 class): jaws grip the stock's outside, stand ``jaw_height`` mm above it
    radially and ``jaw_length`` mm out of the body face axially; the body is ``body_diameter`` across with
    a ``through_bore`` spindle bore. The jaw faces (machine z = 0) are the chuck's right end."""

    kind: str = "three_jaw"
    body_diameter: float = 200.0
    jaw_height: float = 40.0
    jaw_length: float = 30.0
    through_bore: float = 52.0

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ChuckSpec:
        known = {"kind", "body_diameter", "jaw_height", "jaw_length", "through_bore"}
        extra = set(data) - known
        if extra:
            raise KeyError(f"unknown chuck key {min(extra)!r}")
        values = {k: (str(v) if k == "kind" else float(v)) for k, v in data.items()}
        spec = cls(**values)
        if spec.kind != "three_jaw":
            raise ValueError("chuck: only kind 'three_jaw' is modelled")
        return spec

    def boxes(self, grip_radius: float, jaw_face_z: float) -> list[tuple[float, float, float, float]]:
        """(z0, z1, r_lo, r_hi) boxes of the revolved jaws and body in the work frame (the jaws turn with
        the spindle, so they are taken as a full ring)."""
        jaw_z0 = jaw_face_z - self.jaw_length
        return [(jaw_z0, jaw_face_z, grip_radius, grip_radius + self.jaw_height),
                (jaw_z0 - 200.0, jaw_z0, self.through_bore / 2.0, self.body_diameter / 2.0)]


@dataclass(frozen=True)
class Crash:
    kind: str        # rapid_into_stock | non_cutting_contact | chuck_contact | spindle_stopped_cut | too_deep
    line: int
    detail: str = ""

    def to_dict(self) -> dict:
        return {"kind": self.kind, "line": self.line, "detail": self.detail}


class Workpiece:
    """Stock + chuck + tools; :meth:`apply` one motion at a time."""

    def __init__(self, stock: StockSpec | None = None, chuck: ChuckSpec | None = None,
                 tools: Mapping[int, Tool] | None = None, part_origin: tuple[float, float] = (0.0, 70.0)):
        self.spec = stock or StockSpec()
        self.chuck = chuck or ChuckSpec()
        self.tools: dict[int, Tool] = dict(tools if tools is not None else default_tools())
        self.part_origin = (float(part_origin[0]), float(part_origin[1]))
        right = self.spec.stick_out - self.part_origin[1]
        self.stock = st.Stock(self.spec.diameter, right - self.spec.length, right, self.spec.bore_diameter)
        jaw_face = -self.part_origin[1]
        boxes = self.chuck.boxes(self.spec.diameter / 2.0, jaw_face)
        # chuck as profiles: top of the rings for external tools, minus their bottom for internal ones
        self._chuck_top = [st.flat_piece(z0, z1, r_hi) for z0, z1, _, r_hi in sorted(boxes)]
        self._chuck_bottom_neg = [st.flat_piece(z0, z1, -r_lo) for z0, z1, r_lo, _ in sorted(boxes)]
        self._chuck_z1 = jaw_face
        self._bounds: dict[tuple[int, int], tuple[float, float, float, float]] = {}
        self._face_cache: dict[int, list] = {}
        self._reach: dict[int, tuple[float, float]] = {}   # station → z extent of all its sweep shapes
        self._last_thread: tuple | None = None   # (end (z, r), lead, station, phase_z) of a thread move

    # ------------------------------------------------------------------------------------- frames
    def tip_work(self, tool: Tool, point: Sequence[float]) -> tuple[float, float]:
        """Machine (x, z) of the turret reference point -> work (z, r) of the tool's imaginary tip."""
        x = point[0] + tool.tip_vector[0] - self.part_origin[0]
        z = point[1] + tool.tip_vector[1] - self.part_origin[1]
        if tool.internal and tool.kind in ("drill", "centre_drill"):
            x = abs(x)       # on the axis either side is the same revolved solid
        return (z, x)

    # ------------------------------------------------------------------------------------- apply
    def apply(self, motion: Motion) -> list[Crash]:
        """Apply one canonical motion; the crashes it causes (empty when none)."""
        last_thread, self._last_thread = self._last_thread, None
        if motion.kind not in ("rapid", "feed", "arc", "thread"):
            return []
        tool = self.tools.get(motion.tool)
        if tool is None:
            return []
        if motion.kind != "arc" and self._beside_stock_and_chuck(tool, motion):
            return []
        start = self.tip_work(tool, motion.start)
        end = self.tip_work(tool, motion.end)
        tags = {"line": motion.line, "nose": tool.nose_radius,
                "feed": (motion.feed_mm_min / motion.spindle_rpm)
                if motion.kind != "rapid" and motion.spindle_rpm > 0 else 0.0}
        path = self._path(motion, tool, start, end)
        # which sweep shapes may reach the stock or the chuck: asked once, both sweeps below read it
        near = [self._may_touch(tool, self._box(tool, index, shape, path))
                for index, shape in enumerate(tool.sweep_shapes)]
        envelopes = self._envelopes(tool, path, tags, near)
        if not envelopes:
            return []
        crashes: list[Crash] = []
        self._check_chuck(tool, envelopes, motion, crashes)
        self._check_reach(tool, envelopes, motion, crashes)
        # before the stock changes: a rapid into material is a crash whatever part leads
        face_hits = self._face_hits(tool, path, tags, motion.kind, near) if motion.kind != "rapid" else []
        whole = st.envelope_of(env for _, env in envelopes)
        if motion.kind == "thread":
            self._thread_pass(tool, motion, start, end, crashes, whole, last_thread)
            self._report_face_hits(tool, motion, face_hits, crashes)
            return crashes
        if self.stock.threads:
            whole = self._outside_threads(whole, tool.station)
        removals = self.stock.cut_inner(whole) if tool.internal else self.stock.cut_outer(whole)
        removals = [r for r in removals if r.depth > CONTACT_TOL and r.z1 - r.z0 > CONTACT_TOL]
        if removals:
            self._classify(tool, motion, removals, crashes)
        self._report_face_hits(tool, motion, face_hits, crashes)
        return crashes

    def _path(self, motion: Motion, tool: Tool, start, end):
        if motion.kind != "arc" or motion.centre is None:
            return ("line", start, end)
        centre = self.tip_work(tool, motion.centre)
        if tool.internal and tool.kind in ("drill", "centre_drill"):
            return ("line", start, end)
        radius = math.hypot(start[0] - centre[0], start[1] - centre[1])
        a0 = math.atan2(start[1] - centre[1], start[0] - centre[0])
        a1 = math.atan2(end[1] - centre[1], end[0] - centre[0])
        # (z, r) axes keep FANUC's view (Z right, X up): G02 (clockwise) is a decreasing angle
        return ("arc", centre, radius, a0, a1, not motion.clockwise, start, end)

    def _envelopes(self, tool: Tool, path, tags, near: list[bool]) -> list[tuple[st.Shape, list[st.Piece]]]:
        """Per sweep shape of the tool: its swept lower envelope (skipped when its box misses everything)."""
        out = []
        for index, shape in enumerate(tool.sweep_shapes):
            if not near[index]:
                continue
            shape_tags = dict(tags, part=shape.name)
            mirrored = tool.internal and not shape.name.endswith(":far")
            if path[0] == "line":
                _, a, b = path
                if mirrored:
                    a, b = (a[0], -a[1]), (b[0], -b[1])
                env = st.sweep_line(shape, a, b, shape_tags)
            else:
                _, centre, radius, a0, a1, ccw, a, b = path
                if mirrored:        # mirrored shapes travel the mirrored arc
                    centre, a0, a1, ccw, b = (centre[0], -centre[1]), -a0, -a1, not ccw, (b[0], -b[1])
                env = st.sweep_arc(shape, centre, radius, a0, a1, ccw, shape_tags)
                # an arc whose end radius differs (within the control's tolerance) finishes on a line
                arc_end = (centre[0] + radius * math.cos(a1), centre[1] + radius * math.sin(a1))
                if math.dist(arc_end, b) > 1e-9:
                    env = st.envelope_of([env, st.sweep_line(shape, arc_end, b, shape_tags)])
            out.append((shape, env))
        return out

    def _box(self, tool: Tool, index: int, shape: st.Shape, path) -> tuple[float, float, float, float]:
        key = (tool.station, index)
        if key not in self._bounds:
            self._bounds[key] = shape.bounds()
        zmin, zmax, rmin, rmax = self._bounds[key]
        if path[0] == "line":
            (za, ra), (zb, rb) = path[1], path[2]
            pz0, pz1, pr0, pr1 = min(za, zb), max(za, zb), min(ra, rb), max(ra, rb)
        else:
            pz0, pz1, pr0, pr1 = st.arc_box(path[1], path[2], path[3], path[4], path[5])
        if tool.internal and not shape.name.endswith(":far"):
            pr0, pr1 = -pr1, -pr0        # mirrored shape, mirrored path
        return (pz0 + zmin, pz1 + zmax, pr0 + rmin, pr1 + rmax)

    def _beside_stock_and_chuck(self, tool: Tool, motion: Motion) -> bool:
        """True when a straight move stays beside the stock and the chuck in z with all the tool's sweep shapes
        together, so that :meth:`_may_touch` would skip each of them: the cheap exit of moves in the air,
        before any point, box, tag or envelope is built. (Adding the smallest shape z to the smallest path z
        rounds no higher than adding any shape's own z, so the test is exact.)"""
        reach = self._reach.get(tool.station)
        if reach is None:
            bounds = [shape.bounds() for shape in tool.sweep_shapes] or [(0.0, 0.0, 0.0, 0.0)]
            reach = self._reach[tool.station] = (min(b[0] for b in bounds), max(b[1] for b in bounds))
        zmin, zmax = reach
        # work z of the tip at both ends, as tip_work computes it
        za = motion.start[1] + tool.tip_vector[1] - self.part_origin[1]
        zb = motion.end[1] + tool.tip_vector[1] - self.part_origin[1]
        if za > zb:
            za, zb = zb, za
        return zb + zmax < self._chuck_top[0].z0 or za + zmin > max(self.stock.z_right, self._chuck_z1) + CONTACT_TOL

    def _may_touch(self, tool: Tool, box) -> bool:
        z0, z1, r0, _ = box
        if z1 < self._chuck_top[0].z0 or z0 > max(self.stock.z_right, self._chuck_z1) + CONTACT_TOL:
            return False
        if tool.internal:
            return True
        # r0 < (the highest of stock and chuck over [z0, z1]) + CONTACT_TOL, one profile at a time
        chuck = st.upper_bound(self._chuck_top, z0, z1)
        if chuck is not None and r0 < chuck + CONTACT_TOL:
            return True
        return self.stock.outer_reaches(z0, z1, r0, CONTACT_TOL)

    # ------------------------------------------------------------------------------------- checks
    def _check_chuck(self, tool: Tool, envelopes, motion: Motion, crashes: list[Crash]) -> None:
        profile = self._chuck_bottom_neg if tool.internal else self._chuck_top
        for shape, env in envelopes:
            removals: list[st.Removal] = []
            st.lower_envelope(profile, [p for p in env if p.z0 < self._chuck_z1], removals)
            hits = [r for r in removals if r.depth > CONTACT_TOL and r.z1 - r.z0 > CONTACT_TOL]
            if hits:
                crashes.append(Crash("chuck_contact", motion.line,
                                     f"tool {tool.station} {shape.name} touches the chuck at Z{hits[0].z0:.3f}"))
                return

    def _check_reach(self, tool: Tool, envelopes, motion: Motion, crashes: list[Crash]) -> None:
        """An internal tool's part beyond its reach (the drill shank, as wide as the hole its flutes cut)
        can only touch: touching material there is already too deep. External parts beyond the reach (the
        grooving holder) must penetrate, as any other part (see :meth:`_classify`)."""
        if not tool.internal:
            return
        for shape, env in envelopes:
            if not shape.beyond_reach:
                continue
            profile = self.stock.inner_neg if tool.internal else self.stock.outer
            for piece in env:
                for z in _samples(piece, profile):
                    if not (self.stock.z_left < z < self.stock.z_right) or not self.stock.has_material(z):
                        continue
                    wall = st.value_at(profile, z)
                    if wall is not None and piece.r(z) < wall + CONTACT_TOL:
                        crashes.append(Crash("too_deep", motion.line,
                                             f"tool {tool.station} {shape.name} reaches material at Z{z:.3f}"))
                        return

    def _classify(self, tool: Tool, motion: Motion, removals: list[st.Removal], crashes: list[Crash]) -> None:
        deepest = max(removals, key=lambda r: r.depth)
        where = f"Z{deepest.z0:.3f}..Z{deepest.z1:.3f}, {deepest.depth:.4f} mm deep"
        if motion.kind == "rapid":
            crashes.append(Crash("rapid_into_stock", motion.line, f"rapid move removes material at {where}"))
            return
        beyond = {s.name for s in tool.sweep_shapes if s.beyond_reach}
        deep = [r for r in removals if r.piece.part in beyond]
        if deep and not any(c.kind == "too_deep" for c in crashes):
            crashes.append(Crash("too_deep", motion.line, f"tool {tool.station} {deep[0].piece.part} reaches "
                                                          f"material at Z{deep[0].z0:.3f}"))
        bad = [r for r in removals if not r.piece.cutting and r.piece.part not in beyond]
        if bad:
            worst = max(bad, key=lambda r: r.depth)
            crashes.append(Crash("non_cutting_contact", motion.line,
                                 f"tool {tool.station} {worst.piece.part} moves into material at "
                                 f"Z{worst.z0:.3f}..Z{worst.z1:.3f}, {worst.depth:.4f} mm deep"))
        if motion.spindle_rpm <= 0.0:
            crashes.append(Crash("spindle_stopped_cut", motion.line, f"cutting with the spindle stopped at {where}"))

    def _face_hits(self, tool: Tool, path, tags, kind: str, near: list[bool]) -> list[st.Removal]:
        """Material present before the move that the tool's leading non-cutting faces sweep into (see
        :mod:`leading`), deeper and wider than CONTACT_TOL."""
        swept = []
        for index, (shape, faces) in enumerate(self._faces(tool)):
            if not faces or not near[index]:
                continue
            mirrored = tool.internal and not shape.name.endswith(":far")
            swept.append(leading.sweep_faces(faces, _mirror_path(path) if mirrored else path,
                                             dict(tags, part=shape.name)))
        envelope = st.envelope_of(swept)
        if kind != "thread" and self.stock.threads:
            envelope = self._outside_threads(envelope, tool.station)
        hits = self.stock.probe_inner(envelope) if tool.internal else self.stock.probe_outer(envelope)
        return [h for h in hits if h.depth > CONTACT_TOL and h.z1 - h.z0 > CONTACT_TOL]

    def _faces(self, tool: Tool) -> list[tuple[st.Shape, tuple[leading.Face, ...]]]:
        """Per sweep shape, its exposed non-cutting faces; shapes are grouped as they are placed (an
        internal tool's mirrored shapes together, its ':far' copies together)."""
        if tool.station not in self._face_cache:
            shapes = tool.sweep_shapes
            far = [i for i, s in enumerate(shapes) if s.name.endswith(":far")]
            near = [i for i in range(len(shapes)) if i not in far]
            faces: dict[int, tuple] = {}
            for group in (near, far):
                for i in group:
                    faces[i] = leading.exposed_faces(shapes[i], [shapes[j] for j in group if j != i])
            self._face_cache[tool.station] = [(shapes[i], faces[i]) for i in range(len(shapes))]
        return self._face_cache[tool.station]

    def _report_face_hits(self, tool: Tool, motion: Motion, hits: list[st.Removal], crashes: list[Crash]) -> None:
        """A face beyond the reach (grooving holder) is too deep; any other is non-cutting contact. Each
        kind is reported once per move."""
        beyond = {s.name for s in tool.sweep_shapes if s.beyond_reach}
        for kind, group in (("too_deep", [h for h in hits if h.piece.part in beyond]),
                            ("non_cutting_contact", [h for h in hits if h.piece.part not in beyond])):
            if not group or any(c.kind == kind for c in crashes):
                continue
            worst = max(group, key=lambda h: h.depth)
            crashes.append(Crash(kind, motion.line, f"tool {tool.station} {worst.piece.part} moves into material "
                                                    f"at Z{worst.z0:.3f}..Z{worst.z1:.3f}, {worst.depth:.4f} mm deep"))

    def _outside_threads(self, envelope: list[st.Piece], station: int) -> list[st.Piece]:
        """The envelope without the z ranges of the thread zones this tool cut: entering and leaving its
        own helical groove is not a cut of the turned profile."""
        out = list(envelope)
        for zone in self.stock.threads:
            if not any(p.tool == station for p in zone.passes):
                continue
            lo, hi = zone.z_range
            kept = []
            for p in out:
                if p.z0 < lo:
                    kept.append(p.clip(p.z0, min(p.z1, lo)))
                if p.z1 > hi:
                    kept.append(p.clip(max(p.z0, hi), p.z1))
            out = [p for p in kept if p.z1 - p.z0 > st.SLIVER]
        return out

    # ------------------------------------------------------------------------------------- threads
    def _thread_pass(self, tool: Tool, motion: Motion, start, end, crashes: list[Crash], whole,
                     last_thread) -> None:
        """Record a helical pass (the turned profile stays); check the tool's non-cutting parts.

        A pass starts on the one-revolution signal (its start z is at spindle angle 0), unless it directly
        continues the previous thread move (consecutive G32 blocks, a G76/G92 chamfer-out): then it
        stays on that move's helix."""
        if tool.internal:
            from ..core.alarms import Alarm
            raise Alarm("PS0010", motion.line, f"thread cutting with tool {tool.station} ({tool.kind}) is not "
                                               "supported: internal threads are not modelled")
        lead = motion.lead if motion.lead > 0 else abs(end[0] - start[0])
        phase = start[0]
        if last_thread is not None:
            last_end, last_lead, last_station, last_phase = last_thread
            if last_station == tool.station and abs(last_lead - lead) < 1e-12 and math.dist(last_end, start) < 1e-9:
                phase = last_phase
        self._last_thread = (end, lead, tool.station, phase)
        dz = end[0] - start[0]
        # M03 turns the part CCW about +Z: feeding toward the chuck (-Z) cuts a right-hand helix
        hand = 1 if (motion.spindle_dir >= 0) == (dz < 0) else -1
        removals = self.stock.probe_outer(whole)
        removals = [r for r in removals if r.depth > CONTACT_TOL and r.z1 - r.z0 > CONTACT_TOL]
        bad = [r for r in removals if not r.piece.cutting]
        if bad:
            worst = max(bad, key=lambda r: r.depth)
            crashes.append(Crash("non_cutting_contact", motion.line,
                                 f"{worst.piece.part} of tool {tool.station} moves into material at "
                                 f"Z{worst.z0:.3f}, {worst.depth:.4f} mm deep"))
        if removals and motion.spindle_rpm <= 0.0:
            crashes.append(Crash("spindle_stopped_cut", motion.line, "thread pass with the spindle stopped"))
        if removals:
            insert = tool.shapes[0]
            chain = st.chain_at(insert, (0.0, 0.0), {"line": motion.line})
            # only the part below the turned crest can ever show
            zlo, zhi = sorted((start[0], end[0]))
            crest = st.upper_bound(self.stock.outer, zlo + chain[0].z0, zhi + chain[-1].z1) or 0.0
            chain = tuple(st.clip_below(chain, crest - min(start[1], end[1]) + 0.01)) or tuple(chain)
            self.stock.add_thread_pass(st.ThreadPass(start, end, motion.line, chain, phase_z=phase,
                                                      tool=tool.station), lead, hand)

    # ------------------------------------------------------------------------------------- results
    def display_profile(self, tolerance: float = 0.005) -> dict[str, Any]:
        """Outer and inner polylines for the browser, chord error at most ``tolerance`` mm."""
        inner = self.stock.inner
        return {"tolerance": tolerance, "outer": display_polyline(_max_profile(self.stock.outer, inner), tolerance),
                "inner": display_polyline(inner, tolerance)}

    def profile(self) -> dict[str, list[dict]]:
        """Final outer and inner profile as segments in (Z, radius): lines, arcs (centre, radius) and the
        faces (vertical steps) between them; each with the program line that cut it (0 = raw stock).
        Where no material is left the outer profile is shown on the inner one."""
        inner = self.stock.inner
        shown = _max_profile(self.stock.outer, inner)
        return {"outer": segments(shown), "inner": segments(inner),
                "threads": [thread_dict(z, self.stock.r_out(0.5 * (z.passes[0].start[0] + z.passes[0].end[0])))
                            for z in self.stock.threads]}


def display_polyline(profile: Sequence[st.Piece], tolerance: float = 0.005) -> list[list[float]]:
    """[z, r] points of a profile for the browser: faces kept, each arc split into chords whose sagitta
    is at most ``tolerance`` mm (R (1 - cos(Δ/2)) <= tolerance). For display only, never for measurement."""
    points: list[list[float]] = []

    def add(z, r):
        if not points or abs(points[-1][0] - z) > 1e-12 or abs(points[-1][1] - r) > 1e-12:
            points.append([z, r])

    for piece in profile:
        add(piece.z0, piece.r(piece.z0))
        if piece.arc:
            t0 = math.atan2(piece.r(piece.z0) - piece.b, piece.z0 - piece.a)
            t1 = math.atan2(piece.r(piece.z1) - piece.b, piece.z1 - piece.a)
            if piece.s < 0:      # lower branch: angles in (-π, 0], run from z0 to z1 (increasing angle)
                t0 = t0 if t0 <= 0.0 else t0 - 2.0 * math.pi
            span = t1 - t0
            ratio = max(-1.0, min(1.0, 1.0 - tolerance / piece.c))
            n = max(1, math.ceil(abs(span) / (2.0 * math.acos(ratio)))) if ratio < 1.0 else 1
            for k in range(1, n):
                t = t0 + span * k / n
                add(piece.a + piece.c * math.cos(t), piece.b + piece.c * math.sin(t))
        add(piece.z1, piece.r(piece.z1))
    return points


def _mirror_path(path):
    """The tip path as a mirrored (r -> -r) shape travels it."""
    if path[0] == "line":
        _, a, b = path
        return ("line", (a[0], -a[1]), (b[0], -b[1]))
    _, centre, radius, a0, a1, ccw, a, b = path
    return ("arc", (centre[0], -centre[1]), radius, -a0, -a1, not ccw, (a[0], -a[1]), (b[0], -b[1]))


def _samples(piece: st.Piece, profile: Sequence[st.Piece]) -> list[float]:
    zs = [piece.z0 + 1e-9, 0.5 * (piece.z0 + piece.z1), piece.z1 - 1e-9]
    zs += [p.z0 + 1e-9 for p in profile if piece.z0 < p.z0 < piece.z1]
    zs += [p.z1 - 1e-9 for p in profile if piece.z0 < p.z1 < piece.z1]
    return zs


def _max_profile(a: Sequence[st.Piece], b: Sequence[st.Piece]) -> list[st.Piece]:
    """Pointwise maximum of two profiles over the same domain."""
    neg = st.lower_envelope([p.negated() for p in a], [p.negated() for p in b])
    return [p.negated() for p in neg]


def segments(profile: Sequence[st.Piece]) -> list[dict]:
    """Profile pieces as JSON segments in the work frame (z, radius), faces included."""
    out: list[dict] = []
    prev = None
    for piece in profile:
        r0, r1 = piece.r(piece.z0), piece.r(piece.z1)
        if prev is not None:
            pr = prev.r(prev.z1)
            if abs(pr - r0) > 1e-9:
                lower = prev if pr < r0 else piece
                out.append({"type": "line", "start": [prev.z1, pr], "end": [piece.z0, r0], "face": True,
                            "line": lower.line})
        if piece.arc:
            out.append({"type": "arc", "start": [piece.z0, r0], "end": [piece.z1, r1],
                        "centre": [piece.a, piece.b], "radius": piece.c, "line": piece.line,
                        "feed": piece.feed, "nose_radius": piece.nose})
        else:
            out.append({"type": "line", "start": [piece.z0, r0], "end": [piece.z1, r1], "line": piece.line,
                        "feed": piece.feed, "nose_radius": piece.nose})
        prev = piece
    return out


def thread_dict(zone: st.ThreadZone, crest: float | None = None) -> dict:
    """A thread zone for the JSON report: lead, hand, the passes, and the groove cross-section at material
    angle 0 over one lead around the middle of the first pass ((z, r) points every lead/200 mm)."""
    import numpy as np  # here, not at the top: numpy doubles the start-up time of `examctl sim`
    passes = zone.passes
    z_mid = 0.5 * (passes[0].start[0] + passes[0].end[0])
    us = np.linspace(z_mid - zone.lead / 2.0, z_mid + zone.lead / 2.0, 201)
    groove = zone.groove_radius_many(np.zeros_like(us), us)
    if crest is not None:
        groove = np.minimum(groove, crest)
    return {"lead": zone.lead, "hand": "right" if zone.hand > 0 else "left",
            "groove": [[float(u), float(g)] for u, g in zip(us, groove) if math.isfinite(g)],
            "start_z": passes[0].start[0], "end_z": passes[0].end[0],
            "passes": [{"start": list(p.start), "end": list(p.end), "line": p.line, "phase_z": p.phase_z}
                       for p in passes]}
