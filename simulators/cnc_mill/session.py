"""The mill machine session: a FANUC 0i-MF machining centre operated through trace events.

``MillSession(machine)`` is the core :class:`~simulators.core.panel.Panel` around
:class:`~.mill_model.MillModel` (positions, spindle, vise and stock, magazine, offset pages, manual moves that cut
the same :class:`~.workpiece.Workpiece` as program runs, instruments). Same public API as ``LatheSession``:
``apply(event) -> update``, ``view()``, ``summary(items=(), work_zero=None)`` and :func:`replay`.

Start state (``machine`` = the task's machine block, the ``examctl sim --setup`` form): power off, not
referenced, spindle at the setup's initial position, vise open and empty (the stock is on the bench:
``load_stock`` puts it in), magazine empty, offset pages zero except what the block gives (mill_model.py).
The mill's own events are listed in docs/trace-format.md, section "Mill-only events".
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..core.panel import Panel
from .mill_model import MILL_TYPES, MillModel

__all__ = ["MILL_TYPES", "MillModel", "MillSession", "replay"]


class MillSession(Panel):
    """The machining centre's operator panel over :class:`MillModel`."""

    def __init__(self, machine: Mapping[str, Any] | None = None):
        super().__init__(MillModel(dict(machine or {})))


def replay(machine: Mapping[str, Any] | None, events: Iterable[Any]) -> MillSession:
    """The session after folding ``events`` (deterministic: the same events give the same state). Its ``view()``
    equals the live session's after the same events; the next update carries only later stock changes."""
    session = MillSession(machine)
    session.quiet = True                     # nobody reads the replies: only seq, type, ok, reason, result
    session.model.vise.quiet = True          # the replies' stock changes are not built while folding
    for event in events:
        session.apply(event)
    session.quiet = False
    session.model.vise.end_quiet()
    return session
