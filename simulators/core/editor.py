"""Program memory and EDIT-mode editing as the FANUC 0i-F MDI keys do it. Pure: no I/O, no clock.

:class:`ProgramStore` is the O-number directory (capacity, lock while running). :class:`Editor` is the EDIT
screen on top of it: the selected program, a word cursor, the key-in buffer, and the keys:

- characters and EOB go to the key-in buffer, CAN deletes its last character;
- INSERT puts the buffer after the cursor word (``O1234`` + INSERT creates program O1234);
- ALTER replaces the cursor word; DELETE deletes it, or with ``;`` in the buffer up to the end of the block,
  with ``N100`` up to the end of block N100, with ``O1234`` the program O1234;
- cursor left/right move by word, up/down by block; with a buffer, down/up search forward/backward for the word
  (``X100.``), the address (``M``) or the program (``O1234``); RESET puts the cursor at the program head.

A key never raises: a rejected key leaves the state as it was and shows the control's warning (FORMAT ERROR,
EDIT REJECTED) or raises an alarm in the result (PS0070-PS0074). An edit that would make a block unreadable to
the lexer is a FORMAT ERROR, so the program text stays lexable (the control only finds such errors when it runs).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from .alarms import Alarm
from .editor_units import (Unit, UnitList, changed_lines, check, join, lexer_alarms, line_of, program_numbers,
                           render, split_units)
from .lexer import split_programs
from .program import Program, ProgramMemory

FORMAT_ERROR = "FORMAT ERROR"
EDIT_REJECTED = "EDIT REJECTED"
BUFFER_FULL = "BUFFER FULL"        # our text: the 0i-F simply refuses the key [verify the screen text]

MAX_PROGRAMS = 400                 # 0i-F registrable programs (standard)
MAX_CHARACTERS = 512 * 1024        # 0i-F part program storage, 512 KB, counted here in characters
MAX_PROGRAM_NUMBER = 9999          # O1-O9999 (8-digit program numbers are an option)
KEY_IN_LIMIT = 128                 # characters the key-in buffer holds [verify for 0i-F]
SCREEN_BLOCKS = 12                 # blocks a PAGE key moves
KEYBOARD = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-+/*#[]=,() ;&?@$")
_PROGRAM_NUMBER = re.compile(r"[O:](\d{1,8})")


def edit_alarm(code: str, detail: str = "") -> Alarm:
    alarm = Alarm(code, 0, detail)
    alarm.args = (f"{code} {alarm.message}{': ' + detail if detail else ''}",)   # no line: a memory operation
    return alarm


class EditRejected(Exception):
    """Raised inside the editor when a key is refused; the keys turn it into an :class:`EditResult`."""

    def __init__(self, message: str = "", alarm: Optional[Alarm] = None, detail: str = ""):
        super().__init__(message or (alarm.code if alarm else ""))
        self.message = message or (f"{alarm.code} {alarm.message}" if alarm else "")
        self.alarm = alarm
        self.detail = detail or (alarm.detail if alarm else "")


@dataclass(frozen=True)
class EditResult:
    """What a key did: ``ok`` False means the state is unchanged; ``message`` is the screen warning."""

    ok: bool
    message: str = ""
    alarm: Optional[Alarm] = None
    detail: str = ""

    def to_dict(self) -> dict:
        return {"ok": self.ok, "message": self.message, "detail": self.detail,
                "alarm": self.alarm.to_dict() if self.alarm else None}


# ---------------------------------------------------------------------------------------------- directory


class ProgramStore:
    """Programs by O number, each kept as its text (starting with its ``O`` line)."""

    def __init__(self, max_programs: int = MAX_PROGRAMS, max_characters: int = MAX_CHARACTERS):
        self.max_programs = max_programs
        self.max_characters = max_characters
        self.texts: dict[int, str] = {}
        self.locked: set[int] = set()

    def __contains__(self, number: int) -> bool:
        return number in self.texts

    def text(self, number: int) -> str:
        return self.texts[number]

    def used_characters(self) -> int:
        return sum(len(t) for t in self.texts.values())

    def create(self, number: int, text: Optional[str] = None) -> None:
        """Register a new program (``O1234 ;`` when no text is given)."""
        if not 1 <= number <= MAX_PROGRAM_NUMBER:
            raise EditRejected(alarm=edit_alarm("PS0074", f"O{number} is outside O1-O{MAX_PROGRAM_NUMBER}"))
        if number in self.texts:
            raise EditRejected(alarm=edit_alarm("PS0073", f"O{number:04d} is already in memory"))
        if len(self.texts) >= self.max_programs:
            raise EditRejected(alarm=edit_alarm("PS0072", f"memory holds {self.max_programs} programs at most"))
        self.put(number, text if text is not None else f"O{number:04d} ;\n")

    def put(self, number: int, text: str) -> None:
        """Store ``text`` as program ``number`` (new or replaced), within the character capacity."""
        self.check_editable(number)
        if self.used_characters() - len(self.texts.get(number, "")) + len(text) > self.max_characters:
            raise EditRejected(alarm=edit_alarm("PS0070", f"memory holds {self.max_characters} characters"))
        self.texts[number] = text

    def delete(self, number: int) -> None:
        if number not in self.texts:
            raise EditRejected(alarm=edit_alarm("PS0071", f"O{number:04d} is not in memory"))
        self.check_editable(number)
        del self.texts[number]

    def check_editable(self, number: int) -> None:
        if number in self.locked:
            raise EditRejected(EDIT_REJECTED, detail=f"O{number:04d} is being run")

    def lock(self, number: int) -> None:
        """The panel locks the program it runs: no edit until :meth:`unlock`."""
        self.locked.add(number)

    def unlock(self, number: int) -> None:
        self.locked.discard(number)

    def load(self, source: str) -> list[int]:
        """Store every program of a file (each from its O line to the next, ``%`` lines left out, nothing after
        the closing ``%``); returns their numbers. Each O number must start its own line."""
        lines = source.splitlines()
        percents = [i for i, s in enumerate(lines) if s.strip().startswith("%")]
        lines = lines[:percents[1]] if len(percents) > 1 else lines
        starts = [(p.number, p.line) for p in split_programs("\n".join(lines)) if p.number]
        if len({line for _, line in starts}) != len(starts):
            raise EditRejected(FORMAT_ERROR, detail="two program numbers on one line")
        numbers = []
        for k, (number, line) in enumerate(starts):
            end = starts[k + 1][1] - 1 if k + 1 < len(starts) else len(lines)
            body = [s for s in lines[line - 1:end] if not s.strip().startswith("%")]
            text = "\n".join(body).rstrip("\n") + "\n"
            if number in self.texts:
                self.put(number, text)
            else:
                self.create(number, text)
            numbers.append(number)
        return numbers

    def program_memory(self, main: int) -> ProgramMemory:
        """Program memory for a run of ``main``, every other stored program callable by M98/G65."""
        order = [main] + sorted(n for n in self.texts if n != main)
        programs = []
        for number in order:
            for part in split_programs(self.texts[number]):
                programs.append(Program(part.number, part.line, tuple(part.blocks)))
        return ProgramMemory(programs)

    def directory(self) -> list[dict]:
        return [{"number": n, "name": f"O{n:04d}", "size": len(t), "comment": _first_comment(t),
                 "locked": n in self.locked} for n, t in sorted(self.texts.items())]


def _first_comment(text: str) -> str:
    """The comment on the program-number line, as the directory shows it."""
    first_line = text.split("\n", 1)[0]
    comments = [u.text.strip("()") for u in split_units(first_line) if u.kind == "comment"]
    return comments[0] if comments else ""


# ---------------------------------------------------------------------------------------------- the EDIT screen


class Editor:
    """The EDIT screen: selected program, word cursor (an index into its units), key-in buffer, last warning."""

    def __init__(self, store: Optional[ProgramStore] = None):
        self.store = store if store is not None else ProgramStore()
        self.selected: Optional[int] = None
        self.cursor = 0
        self.buffer = ""
        self.message = ""
        self._units_cache: tuple[str, UnitList] = ("", UnitList(""))

    # -- the keys (each returns an EditResult, never raises)
    def key(self, chars: str) -> EditResult:
        """Type characters into the key-in buffer (the address/number keys; ``;`` is the EOB key)."""
        return self._run(self._key, chars)

    def eob(self) -> EditResult:
        return self.key(";")

    def can(self) -> EditResult:
        return self._run(self._can)

    def insert(self) -> EditResult:
        return self._run(self._insert)

    def alter(self) -> EditResult:
        return self._run(self._alter)

    def delete(self) -> EditResult:
        return self._run(self._delete)

    def cursor_left(self) -> EditResult:
        return self._run(self._move_word, -1)

    def cursor_right(self) -> EditResult:
        return self._run(self._move_word, +1)

    def cursor_up(self) -> EditResult:
        return self._run(self._search if self.buffer else self._move_block, -1)

    def cursor_down(self) -> EditResult:
        return self._run(self._search if self.buffer else self._move_block, +1)

    def page_up(self) -> EditResult:
        return self._run(self._move_block, -SCREEN_BLOCKS)

    def page_down(self) -> EditResult:
        return self._run(self._move_block, +SCREEN_BLOCKS)

    def search_forward(self) -> EditResult:
        return self._run(self._search, +1)

    def search_backward(self) -> EditResult:
        return self._run(self._search, -1)

    def reset(self) -> EditResult:
        """RESET in EDIT mode: the cursor goes back to the program head."""
        return self._run(self._reset)

    def select(self, number: int) -> EditResult:
        """Program search (``O1234`` and cursor down): make ``number`` the selected program."""
        return self._run(self._select, number)

    def replace_text(self, number: int, text: str) -> EditResult:
        """The browser editor's save: the whole text of program ``number`` (created if it is new)."""
        return self._run(self._replace_text, number, text)

    KEYS = {"INSERT": "insert", "ALTER": "alter", "DELETE": "delete", "CAN": "can", "EOB": "eob",
            "LEFT": "cursor_left", "RIGHT": "cursor_right", "UP": "cursor_up", "DOWN": "cursor_down",
            "PAGE_UP": "page_up", "PAGE_DOWN": "page_down", "RESET": "reset",
            "SEARCH_FORWARD": "search_forward", "SEARCH_BACKWARD": "search_backward"}

    def press(self, key: str, chars: str = "") -> EditResult:
        """One MDI key by name (``KEYS``), or ``"CHAR"`` with ``chars``: the entry point for trace events."""
        if key == "CHAR":
            return self.key(chars if isinstance(chars, str) else "")
        method = self.KEYS.get(key) if isinstance(key, str) else None
        if method is None:
            return EditResult(False, "", None, f"no key {key!r} on the MDI unit")
        return getattr(self, method)()

    # -- what the browser shows
    def view(self) -> dict:
        text, units = self._text(), self._units()
        cursor = None
        if len(units):
            index = min(self.cursor, len(units) - 1)
            unit = units[index]
            cursor = {"unit": index, "line": line_of(text, unit.start), "word": units.word_in_line(index),
                      "text": unit.text, "start": unit.start, "end": unit.end}
        return {"directory": self.store.directory(), "selected": self.selected, "text": text, "cursor": cursor,
                "buffer": self.buffer, "message": self.message,
                "memory": {"programs": len(self.store.texts), "characters": self.store.used_characters(),
                           "max_programs": self.store.max_programs,
                           "max_characters": self.store.max_characters}}

    snapshot = view

    def check(self) -> list[Alarm]:
        """Background check of the selected program (calls to the other stored programs are fine)."""
        if self.selected is None:
            return []
        return check(self._text(), frozenset(self.store.texts))

    # -- machinery
    def _run(self, action, *args) -> EditResult:
        if self.selected is not None and self.selected not in self.store:
            self.selected = None                # deleted behind the editor's back (store.delete)
        self.cursor = max(0, min(self.cursor, len(self._units()) - 1))   # the text may have been replaced
        try:
            action(*args)
        except EditRejected as rejected:
            self.message = rejected.message
            return EditResult(False, rejected.message, rejected.alarm, rejected.detail)
        self.message = ""
        return EditResult(True)

    def _text(self) -> str:
        return self.store.texts.get(self.selected, "") if self.selected is not None else ""

    def _units(self) -> UnitList:
        text = self._text()
        if self._units_cache[0] != text or not self._units_cache[1] and text:
            self._units_cache = (text, split_units(text))
        return self._units_cache[1]

    def _unit(self) -> Optional[Unit]:
        units = self._units()
        return units[min(self.cursor, len(units) - 1)] if units else None

    def _block_starts(self) -> list[int]:
        """Unit index of the first unit of every block."""
        starts, units = [0], self._units()
        starts += [i + 1 for i, u in enumerate(units.relative) if u.kind == "eob" and i + 1 < len(units)]
        return starts

    # -- key-in buffer
    def _key(self, chars: str) -> None:
        if not isinstance(chars, str) or not chars:
            raise EditRejected(detail="no character")
        typed = chars.upper()
        if any(c not in KEYBOARD for c in typed):
            raise EditRejected(detail=f"{chars!r} has a character the MDI unit does not have")
        if len(self.buffer) + len(typed) > KEY_IN_LIMIT:
            raise EditRejected(BUFFER_FULL, detail=f"the key-in buffer holds {KEY_IN_LIMIT} characters")
        self.buffer += typed

    def _can(self) -> None:
        self.buffer = self.buffer[:-1]

    def _reset(self) -> None:
        self.cursor = 0

    # -- cursor
    def _move_word(self, step: int) -> None:
        self.cursor = max(0, min(len(self._units()) - 1, self.cursor + step)) if self._units() else 0

    def _move_block(self, blocks: int) -> None:
        starts = self._block_starts()
        current = max(k for k, s in enumerate(starts) if s <= self.cursor)
        if blocks < 0 and starts[current] < self.cursor:
            blocks += 1                     # up from mid-block first goes to the head of this block
        self.cursor = starts[max(0, min(len(starts) - 1, current + blocks))]

    def _search(self, direction: int) -> None:
        wanted = "".join(self.buffer.split())
        program = _PROGRAM_NUMBER.fullmatch(wanted)
        if program or wanted in ("O", ":"):
            self._program_search(int(program.group(1)) if program else None)
        else:
            self._word_search(wanted, direction)
        self.buffer = ""

    def _word_search(self, wanted: str, direction: int) -> None:
        units = split_units(wanted)
        if len(units) != 1 or units[0].kind == "eob":
            raise EditRejected(FORMAT_ERROR, detail=f"search for one word or address, not {wanted!r}")
        address_only = len(wanted) == 1 and wanted.isalpha()
        all_units = self._units()
        order = range(self.cursor + 1, len(all_units)) if direction > 0 else range(self.cursor - 1, -1, -1)
        for i in order:
            key = all_units[i].key
            if (key[:1] == wanted and all_units[i].kind == "word") if address_only else key == wanted:
                self.cursor = i
                return
        raise EditRejected(alarm=edit_alarm("PS0071", f"{wanted} not found {'after' if direction > 0 else 'before'}"
                                                      " the cursor"))

    def _program_search(self, number: Optional[int]) -> None:
        if number is None:                  # 'O' alone: the next program of the directory
            after = [n for n in sorted(self.store.texts) if self.selected is None or n > self.selected]
            if not after:
                raise EditRejected(alarm=edit_alarm("PS0071", "no program after this one"))
            number = after[0]
        self._select(number)

    def _select(self, number: int) -> None:
        if not isinstance(number, int) or number not in self.store:
            raise EditRejected(alarm=edit_alarm("PS0071", f"O{number} is not in memory"))
        self.selected, self.cursor = number, 0

    # -- edits
    def _insert(self) -> None:
        wanted = "".join(self.buffer.split())
        if not wanted:
            raise EditRejected(detail="nothing keyed in")
        program = _PROGRAM_NUMBER.fullmatch(wanted.rstrip(";"))
        if program:
            number = int(program.group(1))
            self.store.create(number)
            self.selected, self.buffer = number, ""
            self.cursor = len(self._units()) - 1     # on the EOB after O1234: the next INSERT starts block 2
            return
        unit = self._editable_unit()
        units = self._keyed_units()
        text = self._text()
        before = join(text[:unit.end], render(units))
        self._commit(join(before, text[unit.end:]), len(before))

    def _alter(self) -> None:
        unit = self._editable_unit()
        if unit.kind in ("program", "percent"):
            raise EditRejected(EDIT_REJECTED, detail=f"'{unit.text}' cannot be altered")
        units = self._keyed_units()
        text = self._text()
        before = join(text[:unit.start], render(units))
        self._commit(join(before, text[unit.end:]), len(before))

    def _delete(self) -> None:
        wanted = "".join(self.buffer.split())
        program = _PROGRAM_NUMBER.fullmatch(wanted)
        if program:
            self._delete_program(int(program.group(1)))
            return
        unit = self._editable_unit()
        first = self.cursor
        last = first if not wanted else self._delete_range_end(wanted)
        units = self._units()
        if any(units.kind(i) in ("program", "percent") for i in range(first, last + 1)):
            raise EditRejected(EDIT_REJECTED, detail="the program number and '%' cannot be deleted this way")
        text = self._text()
        kept = join(text[:unit.start], text[units[last].end:])
        self._commit(kept, None)
        self.cursor = min(first, max(0, len(self._units()) - 1))

    def _delete_range_end(self, wanted: str) -> int:
        """Last unit deleted for DELETE with ``;`` (to the end of this block) or ``N100`` (to the end of N100)."""
        units = self._units()
        eobs = [i for i in range(self.cursor, len(units)) if units.kind(i) == "eob"]
        if wanted == ";":
            return eobs[0] if eobs else len(units) - 1
        if not re.fullmatch(r"N\d+", wanted):
            raise EditRejected(FORMAT_ERROR, detail=f"DELETE takes ';', Nnnn or Onnnn, not {wanted!r}")
        for i in range(self.cursor, len(units)):
            if units.kind(i) == "word" and units[i].key == wanted:
                return next((e for e in eobs if e >= i), len(units) - 1)
        raise EditRejected(alarm=edit_alarm("PS0071", f"{wanted} not found after the cursor"))

    def _delete_program(self, number: int) -> None:
        self.store.delete(number)
        if self.selected == number:
            self.selected, self.cursor = None, 0
        self.buffer = ""

    def _editable_unit(self) -> Unit:
        if self.selected is None:
            raise EditRejected(EDIT_REJECTED, detail="no program is selected")
        self.store.check_editable(self.selected)
        unit = self._unit()
        if unit is None:
            raise EditRejected(EDIT_REJECTED, detail="the program is empty")
        return unit

    def _keyed_units(self) -> list[Unit]:
        """The key-in buffer as units; a buffer that is not a sequence of readable words is a FORMAT ERROR."""
        units = split_units(self.buffer)
        if not units:
            raise EditRejected(detail="nothing keyed in")
        bad = [u for u in units if u.kind in ("program", "percent", "other")]
        if bad:
            raise EditRejected(FORMAT_ERROR, detail=f"'{bad[0].text}' cannot be keyed into a program")
        alarms = lexer_alarms(render(units))
        if alarms:
            raise EditRejected(FORMAT_ERROR, detail=f"{alarms[0].code} {alarms[0].message}: {alarms[0].detail}")
        return units

    def _commit(self, new_text: str, cursor_end: Optional[int]) -> None:
        """Store the edited text unless it adds a lexer error or changes a program-number line; then put the
        cursor on the last unit starting before ``cursor_end`` (the end of the keyed-in words).

        Only the lines the edit changed are read again (the lexer reads a program line by line)."""
        old_lines, new_lines = changed_lines(self._text(), new_text)
        if program_numbers(new_lines) != program_numbers(old_lines):
            raise EditRejected(FORMAT_ERROR, detail="the edit would change the program-number block")
        new_alarms = lexer_alarms(new_lines)
        if len(new_alarms) > len(lexer_alarms(old_lines)):
            alarm = new_alarms[0]
            raise EditRejected(FORMAT_ERROR, detail=f"{alarm.code} {alarm.message}: {alarm.detail}")
        self.store.put(self.selected, new_text)
        self.buffer = ""
        if cursor_end is not None:
            self.cursor = self._units().last_starting_before(cursor_end)

    def _replace_text(self, number: int, text: str) -> None:
        if not isinstance(text, str) or not isinstance(number, int):
            raise EditRejected(FORMAT_ERROR, detail="a program number and a text are needed")
        text = "\n".join(text.splitlines()) + "\n"      # the lexer's line breaks, each as one newline
        numbers = [p.number for p in split_programs(text) if p.blocks or p.number]
        if numbers != [number]:
            raise EditRejected(FORMAT_ERROR, detail=f"the text must hold exactly program O{number:04d}, "
                                                    f"found {['O%04d' % n for n in numbers]}")
        if number in self.store:
            self.store.put(number, text)
        else:
            self.store.create(number, text)
        self.selected, self.cursor = number, 0


__all__ = ["ProgramStore", "Editor", "EditResult", "EditRejected", "check", "FORMAT_ERROR",
           "EDIT_REJECTED", "edit_alarm"]
