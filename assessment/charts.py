"""Item-analysis charts as SVG text for the examiner's pages: difficulty vs discrimination, score distribution.

Self-contained SVG: zh-CN labels in the browser's own sans-serif font, no external fonts, links or scripts
(test centres are often closed LANs). Each dot carries a <title> tooltip with the item's numbers.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence
from xml.sax.saxutils import escape, quoteattr

import numpy as np

WIDTH, HEIGHT = 640, 420
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 64, 24, 60, 56
FONT = 'font-family="sans-serif"'
OK_COLOUR, FLAG_COLOUR, GUIDE_COLOUR, BAR_COLOUR, PASS_COLOUR = "#2b6cb0", "#c53030", "#a0aec0", "#4a90d9", "#c53030"


@dataclass(frozen=True)
class _Frame:
    """Maps data coordinates to the plotting area."""
    x_min: float
    x_max: float
    y_min: float
    y_max: float

    def x(self, value: float) -> float:
        span = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
        return round(MARGIN_LEFT + (value - self.x_min) / (self.x_max - self.x_min) * span, 1)

    def y(self, value: float) -> float:
        span = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
        return round(HEIGHT - MARGIN_BOTTOM - (value - self.y_min) / (self.y_max - self.y_min) * span, 1)


def _svg(title: str, parts: list[str]) -> str:
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
            f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label={quoteattr(title)}>')
    return "\n".join([head, f"<title>{escape(title)}</title>", '<rect width="100%" height="100%" fill="white"/>',
                      _text(WIDTH / 2, 26, title, size=16, anchor="middle"), *parts, "</svg>"]) + "\n"


def _text(x: float, y: float, text: str, *, size: int = 12, anchor: str = "start", rotate: bool = False,
          colour: str = "#1a202c") -> str:
    turn = f' transform="rotate(-90 {x} {y})"' if rotate else ""
    return (f'<text x="{x}" y="{y}" {FONT} font-size="{size}" text-anchor="{anchor}" fill="{colour}"{turn}>'
            f"{escape(text)}</text>")


def _line(x1, y1, x2, y2, colour="#1a202c", dashed=False) -> str:
    dash = ' stroke-dasharray="4 3"' if dashed else ""
    return f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="{colour}" stroke-width="1"{dash}/>'


def _axes(frame: _Frame, x_ticks, y_ticks, x_label: str, y_label: str, x_format="{:g}") -> list[str]:
    bottom, left = frame.y(frame.y_min), frame.x(frame.x_min)
    parts = [_line(left, bottom, frame.x(frame.x_max), bottom), _line(left, bottom, left, frame.y(frame.y_max))]
    for t in x_ticks:
        parts += [_line(frame.x(t), bottom, frame.x(t), bottom + 4),
                  _text(frame.x(t), bottom + 18, x_format.format(t), anchor="middle")]
    for t in y_ticks:
        parts += [_line(left - 4, frame.y(t), left, frame.y(t)),
                  _text(left - 8, frame.y(t) + 4, f"{t:g}", anchor="end")]
    parts.append(_text((left + frame.x(frame.x_max)) / 2, HEIGHT - 14, x_label, anchor="middle"))
    parts.append(_text(18, (bottom + frame.y(frame.y_max)) / 2, y_label, anchor="middle", rotate=True))
    return parts


def difficulty_discrimination_svg(p: Sequence[float], discrimination: Sequence[float], labels: Sequence[str],
                                  flagged: Sequence[bool] | None = None, *,
                                  title: str = "难度与区分度（每点一道题）") -> str:
    """Scatter of p against the corrected item–rest correlation, with the review bands drawn as dashed lines:
    p 0.20 and 0.90, r 0.20 and 0. Flagged items are red. Items without a value (NaN) are left out."""
    p, r = np.asarray(p, dtype=float), np.asarray(discrimination, dtype=float)
    flagged = np.zeros(len(p), bool) if flagged is None else np.asarray(flagged, bool)
    shown = ~(np.isnan(p) | np.isnan(r))
    low = min(-0.2, math.floor(np.nanmin(r, initial=0.0) * 5) / 5)
    frame = _Frame(0.0, 1.0, low, 1.0)
    parts = _axes(frame, [i / 10 for i in range(0, 11, 2)], _ticks(low, 1.0, 0.2),
                  "难度 p（得分率）", "区分度 r（校正题总相关）")
    parts += [_line(frame.x(v), frame.y(low), frame.x(v), frame.y(1.0), GUIDE_COLOUR, dashed=True) for v in (0.2, 0.9)]
    parts += [_line(frame.x(0), frame.y(v), frame.x(1), frame.y(v), GUIDE_COLOUR, dashed=True) for v in (0.0, 0.2)]
    for i in np.flatnonzero(shown):
        colour = FLAG_COLOUR if flagged[i] else OK_COLOUR
        tip = f"{labels[i]}：p = {p[i]:.2f}，r = {r[i]:.2f}" + ("，需复核" if flagged[i] else "")
        parts.append(f'<circle cx="{frame.x(p[i])}" cy="{frame.y(r[i])}" r="4" fill="{colour}" fill-opacity="0.75">'
                     f"<title>{escape(tip)}</title></circle>")
    parts += _legend([(OK_COLOUR, "正常"), (FLAG_COLOUR, "需复核")])
    return _svg(title, parts)


def _ticks(low: float, high: float, step: float) -> list[float]:
    count = int(round((high - low) / step))
    return [round(low + k * step, 10) for k in range(count + 1)]


def _legend(entries: list[tuple[str, str]]) -> list[str]:
    parts, x = [], WIDTH - MARGIN_RIGHT - 150
    for colour, label in entries:
        parts += [f'<circle cx="{x}" cy="{MARGIN_TOP - 6}" r="4" fill="{colour}"/>',
                  _text(x + 8, MARGIN_TOP - 2, label)]
        x += 70
    return parts


def score_distribution_svg(totals: Sequence[float], *, max_score: float = 100.0, bin_width: float = 5.0,
                           pass_mark: float | None = 60.0, title: str = "成绩分布") -> str:
    """Histogram of total scores in bins [a, a + width) (the last bin includes max_score), the pass mark as a
    line, and a summary line: candidates, mean, standard deviation, pass rate."""
    totals = np.asarray(totals, dtype=float)
    counts = histogram_counts(totals, max_score, bin_width)
    frame = _Frame(0.0, max_score, 0.0, max(1, int(counts.max(initial=0))) * 1.1)
    step = _nice_step(frame.y_max)
    parts = _axes(frame, _ticks(0, max_score, max_score / 10), _ticks(0, math.floor(frame.y_max / step) * step, step),
                  "总分", "人数")
    for k, count in enumerate(counts):
        left, right = frame.x(k * bin_width), frame.x(min(max_score, (k + 1) * bin_width))
        top = frame.y(count)
        parts.append(f'<rect x="{left}" y="{top}" width="{round(right - left - 1, 1)}" '
                     f'height="{round(frame.y(0) - top, 1)}" fill="{BAR_COLOUR}">'
                     f"<title>{k * bin_width:g}–{(k + 1) * bin_width:g} 分：{count} 人</title></rect>")
    if pass_mark is not None:
        x = frame.x(pass_mark)
        parts += [_line(x, frame.y(0), x, frame.y(frame.y_max), PASS_COLOUR, dashed=True),
                  _text(x + 4, MARGIN_TOP + 12, f"及格线 {pass_mark:g}", colour=PASS_COLOUR)]
    parts.append(_text(WIDTH / 2, MARGIN_TOP - 14, _summary(totals, pass_mark), anchor="middle"))
    return _svg(title, parts)


def histogram_counts(totals: np.ndarray, max_score: float, bin_width: float) -> np.ndarray:
    bins = int(math.ceil(max_score / bin_width))
    index = np.clip(np.floor(totals / bin_width).astype(int), 0, bins - 1)
    return np.bincount(index, minlength=bins)


def _nice_step(top: float) -> float:
    raw = top / 5
    magnitude = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    return next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)


def _summary(totals: np.ndarray, pass_mark: float | None) -> str:
    if len(totals) == 0:
        return "无考生"
    text = f"考生 {len(totals)} 人，平均 {totals.mean():.1f} 分，标准差 {totals.std():.1f}"
    if pass_mark is not None:
        text += f"，及格率 {100 * (totals >= pass_mark).mean():.1f}%"
    return text


def pass_rate_trend_svg(labels: Sequence[str], rates: Sequence[float | None], counts: Sequence[int], *,
                        title: str = "合格率趋势") -> str:
    """Pass rate (0–100 %) per period as a line with dots; a period without graded candidates (None) breaks the
    line. Each dot's tooltip gives the rate and the number graded."""
    n = len(labels)
    frame = _Frame(-0.5, max(n, 1) - 0.5, 0.0, 100.0)
    parts = _axes(frame, [], _ticks(0, 100, 20), "", "合格率（%）")
    parts += [_text(frame.x(i), frame.y(0) + 18, label, anchor="middle", size=11) for i, label in enumerate(labels)]
    segment: list[str] = []
    for i, (rate, count) in enumerate(zip(rates, counts)):
        if rate is None:
            parts += _polyline(segment)
            segment = []
            continue
        x, y = frame.x(i), frame.y(100 * rate)
        segment.append(f"{x},{y}")
        parts.append(f'<circle cx="{x}" cy="{y}" r="4" fill="{OK_COLOUR}">'
                     f"<title>{escape(labels[i])}：{100 * rate:.1f}%（{count} 人）</title></circle>")
    parts += _polyline(segment)
    return _svg(title, parts)


def _polyline(points: list[str]) -> list[str]:
    if len(points) < 2:
        return []
    return [f'<polyline points="{" ".join(points)}" fill="none" stroke="{OK_COLOUR}" stroke-width="2"/>']


def pass_rate_bars_svg(labels: Sequence[str], rates: Sequence[float | None], *, reference: float | None = None,
                       flagged: Sequence[bool] | None = None, title: str = "各鉴定站合格率") -> str:
    """One bar per group (e.g. a station) with its pass rate; the reference rate (e.g. the province's) as a dashed
    line; flagged bars (a pass-rate anomaly) red. Groups without graded candidates (None) get no bar."""
    n = len(labels)
    flagged = list(flagged) if flagged is not None else [False] * n
    frame = _Frame(0.0, max(n, 1), 0.0, 100.0)
    parts = _axes(frame, [], _ticks(0, 100, 20), "", "合格率（%）")
    width = (frame.x(1) - frame.x(0)) * 0.6
    for i, (label, rate) in enumerate(zip(labels, rates)):
        centre = frame.x(i + 0.5)
        parts.append(_text(centre, frame.y(0) + 18, label, anchor="middle", size=11))
        if rate is None:
            continue
        top = frame.y(100 * rate)
        colour = FLAG_COLOUR if flagged[i] else BAR_COLOUR
        parts.append(f'<rect x="{round(centre - width / 2, 1)}" y="{top}" width="{round(width, 1)}" '
                     f'height="{round(frame.y(0) - top, 1)}" fill="{colour}">'
                     f"<title>{escape(label)}：{100 * rate:.1f}%</title></rect>")
    if reference is not None:
        y = frame.y(100 * reference)
        parts += [_line(frame.x(0), y, frame.x(frame.x_max), y, GUIDE_COLOUR, dashed=True),
                  _text(frame.x(frame.x_max) - 4, y - 6, f"全省 {100 * reference:.1f}%", anchor="end")]
    return _svg(title, parts)
