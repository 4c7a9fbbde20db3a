"""Program text → programs → blocks of words and macro statements (FANUC word-address format).

What the tokenizer knows:
- comments in parentheses, ``%`` tape markers (the text after the second ``%`` is ignored), ``;`` or a newline
  ending a block, ``/`` block delete, ``N`` sequence numbers, ``O`` (or ``:``) program numbers: a file may hold
  several programs, each starting with its O number; blocks before the first O number form program 0;
- Custom Macro B: ``#n``, ``#[expr]``, brackets, operators, functions and the statements ``#i=expr``,
  ``IF [c] GOTO n``, ``IF [c] THEN #i=expr``, ``WHILE [c] DO m``, ``END m``, ``GOTO n``.

A word keeps its value as an expression (:class:`Num` for a literal, which remembers whether it had a decimal
point, since the decimal point rule depends on it). A block whose text cannot be read is kept with its
:class:`~simulators.core.alarms.Alarm`, raised only when execution reaches it, as on the control.

Program memory reads lazily (:func:`read_programs`, :class:`Blocks`): a line of plain words one space apart, the
bulk of long programs, stays text until its Block is asked for, and an interpreter may execute it from the text.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, Optional, Tuple, Union

from .alarms import Alarm

# ---------------------------------------------------------------------------------------------- expressions


class Num(NamedTuple):
    """A number literal (named tuple: blocks of plain words are the hot path of long programs)."""

    value: float
    has_point: bool = True


@dataclass(frozen=True)
class Var:
    index: "Expr"


@dataclass(frozen=True)
class Unary:
    op: str          # "-" or "+"
    operand: "Expr"


@dataclass(frozen=True)
class Binary:
    op: str          # + - * / AND OR XOR MOD EQ NE GT GE LT LE
    left: "Expr"
    right: "Expr"


@dataclass(frozen=True)
class Func:
    name: str        # SIN, COS, ... ; ATAN with two arguments is atan2
    args: Tuple["Expr", ...]


Expr = Union[Num, Var, Unary, Binary, Func]

FUNCTIONS = ("SIN", "COS", "TAN", "ASIN", "ACOS", "ATAN", "SQRT", "SQR", "ABS", "ROUND", "RND", "FIX", "FUP",
             "LN", "EXP", "BIN", "BCD", "POW")
KEYWORDS = ("IF", "THEN", "GOTO", "WHILE", "DO", "END", "EQ", "NE", "GT", "GE", "LT", "LE", "AND", "OR", "XOR",
            "MOD") + FUNCTIONS
MULTIPLICATIVE = ("*", "/", "AND", "MOD")
ADDITIVE = ("+", "-", "OR", "XOR")
COMPARISON = ("EQ", "NE", "GT", "GE", "LT", "LE")
MAX_DIGITS = 8          # FANUC accepts at most 8 digits in a number (PS0003)
MAX_BRACKET_NESTING = 5  # PS0118

# ---------------------------------------------------------------------------------------------- blocks


class Word(NamedTuple):
    letter: str
    value: "Expr"
    column: int


@dataclass(frozen=True)
class Assign:
    target: Var
    value: Expr


@dataclass(frozen=True)
class IfGoto:
    condition: Expr
    target: Expr


@dataclass(frozen=True)
class IfThen:
    condition: Expr
    statement: Assign


@dataclass(frozen=True)
class While:
    condition: Optional[Expr]   # None for a bare ``DO m`` (endless loop)
    loop: int


@dataclass(frozen=True)
class End:
    loop: int


@dataclass(frozen=True)
class Goto:
    target: Expr


Statement = Union[Assign, IfGoto, IfThen, While, End, Goto]


class Block(NamedTuple):
    """One block. ``line`` and ``column`` are 1-based positions in the program file."""

    line: int
    column: int = 1
    seq: Optional[int] = None          # N number
    delete: bool = False               # starts with "/"
    words: Tuple[Word, ...] = ()
    statement: Optional[Statement] = None
    error: Optional[Alarm] = None      # raised when execution reaches the block
    text: str = ""

    @property
    def is_empty(self) -> bool:
        return not self.words and self.statement is None and self.error is None


@dataclass
class ProgramText:
    number: int
    line: int
    blocks: list = field(default_factory=list)     # a list of Block, or Blocks from read_programs


# ---------------------------------------------------------------------------------------------- tokens


@dataclass(frozen=True)
class Token:
    kind: str      # addr num var lbr rbr op assign kw comma
    text: str
    column: int
    has_point: bool = False


def _alarm(code: str, line: int, column: int, detail: str) -> Alarm:
    return Alarm(code, line, detail, column)


def tokenize(text: str, line: int, column0: int = 1) -> list[Token]:
    """Tokens of one block's text (comments already removed). Raises Alarm with the column."""
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        col = column0 + i
        if ch in " \t\r":
            i += 1
        elif ch.isalpha():
            j = i
            while j < n and text[j].isalpha():
                j += 1
            run = text[i:j].upper()
            if len(run) == 1:
                tokens.append(Token("addr", run, col))
                i = j
            else:
                kw = _leading_keyword(run)
                if kw is None:
                    raise _alarm("PS0009", line, col, f"'{text[i:j]}' is not an address or macro word")
                tokens.append(Token("kw", kw, col))
                i += len(kw)
        elif ch.isdigit() or ch == ".":
            j = i
            while j < n and (text[j].isdigit() or text[j] == "."):
                j += 1
            literal = text[i:j]
            if literal.count(".") > 1:
                raise _alarm("PS0007", line, col, f"two decimal points in '{literal}'")
            if literal == ".":
                raise _alarm("PS0005", line, col, "a decimal point without digits")
            if sum(c.isdigit() for c in literal) > MAX_DIGITS:
                raise _alarm("PS0003", line, col, f"'{literal}' has more than {MAX_DIGITS} digits")
            tokens.append(Token("num", literal, col, "." in literal))
            i = j
        elif ch == "#":
            tokens.append(Token("var", "#", col))
            i += 1
        elif ch == "[":
            tokens.append(Token("lbr", ch, col))
            i += 1
        elif ch == "]":
            tokens.append(Token("rbr", ch, col))
            i += 1
        elif ch in "+-*/":
            tokens.append(Token("op", ch, col))
            i += 1
        elif ch == "=":
            tokens.append(Token("assign", ch, col))
            i += 1
        elif ch == ",":
            tokens.append(Token("comma", ch, col))
            i += 1
        else:
            raise _alarm("PS0009", line, col, f"unexpected character {ch!r}")
    return tokens


def _leading_keyword(run: str) -> Optional[str]:
    """The keyword a run of letters starts with (longest first): 'GOTO10' has the run 'GOTO'."""
    for kw in sorted(KEYWORDS, key=len, reverse=True):
        if run.startswith(kw):
            return kw
    return None


# ---------------------------------------------------------------------------------------------- parser


class _Parser:
    def __init__(self, tokens: list[Token], line: int):
        self.tokens = tokens
        self.pos = 0
        self.line = line
        self.depth = 0

    # -- helpers
    def peek(self, offset: int = 0) -> Optional[Token]:
        k = self.pos + offset
        return self.tokens[k] if k < len(self.tokens) else None

    def take(self) -> Token:
        tok = self.peek()
        if tok is None:
            raise self.error("the block ends too early")
        self.pos += 1
        return tok

    def error(self, detail: str, code: str = "PS0125") -> Alarm:
        tok = self.peek()
        col = tok.column if tok else (self.tokens[-1].column if self.tokens else 1)
        return _alarm(code, self.line, col, detail)

    def expect(self, kind: str, text: Optional[str] = None) -> Token:
        tok = self.peek()
        if tok is None or tok.kind != kind or (text is not None and tok.text != text):
            raise self.error(f"expected {text or kind}")
        self.pos += 1
        return tok

    def at(self, kind: str, text: Optional[str] = None) -> bool:
        tok = self.peek()
        return tok is not None and tok.kind == kind and (text is None or tok.text == text)

    # -- expressions
    def bracketed(self) -> Expr:
        self.expect("lbr")
        self.depth += 1
        if self.depth > MAX_BRACKET_NESTING:
            raise self.error(f"more than {MAX_BRACKET_NESTING} nested brackets", "PS0118")
        expr = self.comparison()
        if not self.at("rbr"):
            raise self.error("']' expected", "PS0114")
        self.pos += 1
        self.depth -= 1
        return expr

    def comparison(self) -> Expr:
        return self._left_associative(self.additive, "", COMPARISON)

    def additive(self) -> Expr:
        return self._left_associative(self.multiplicative, "+-", ADDITIVE)

    def multiplicative(self) -> Expr:
        return self._left_associative(self.unary, "*/", MULTIPLICATIVE)

    def _left_associative(self, operand, symbols: str, keywords) -> Expr:
        """operand (op operand)*, where op is one of ``symbols`` or a keyword operator of ``keywords``."""
        left = operand()
        while ((symbols and self.at("op") and self.peek().text in symbols)
               or (self.at("kw") and self.peek().text in keywords)):
            op = self.take().text
            left = Binary(op, left, operand())
        return left

    def unary(self) -> Expr:
        if self.at("op") and self.peek().text in "+-":
            op = self.take().text
            return Unary(op, self.unary())
        return self.primary()

    def primary(self) -> Expr:
        tok = self.peek()
        if tok is None:
            raise self.error("a value is missing", "PS0114")
        if tok.kind == "num":
            self.pos += 1
            return Num(float(tok.text), tok.has_point)
        if tok.kind == "var":
            return self.variable()
        if tok.kind == "lbr":
            return self.bracketed()
        if tok.kind == "kw" and tok.text in FUNCTIONS:
            return self.function()
        raise self.error(f"unexpected '{tok.text}' in an expression", "PS0114")

    def variable(self) -> Var:
        self.expect("var")
        tok = self.peek()
        if tok is not None and tok.kind == "num":
            if tok.has_point:
                raise self.error("a variable number has no decimal point", "PS0114")
            self.pos += 1
            return Var(Num(float(tok.text), False))
        if tok is not None and tok.kind == "lbr":
            return Var(self.bracketed())
        if tok is not None and tok.kind == "op" and tok.text == "-":
            raise self.error("negative variable number", "PS0115")
        raise self.error("'#' must be followed by a number or [expression]", "PS0114")

    def function(self) -> Func:
        name = self.take().text
        if not self.at("lbr"):
            raise self.error(f"{name} needs [argument]", "PS0114")
        # ATAN[a,b] (0i-F) and ATAN[a]/[b] (classic) are both two-argument arctangents.
        self.expect("lbr")
        self.depth += 1
        if self.depth > MAX_BRACKET_NESTING:
            raise self.error(f"more than {MAX_BRACKET_NESTING} nested brackets", "PS0118")
        args = [self.comparison()]
        while self.at("comma"):
            self.pos += 1
            args.append(self.comparison())
        self.expect("rbr")
        self.depth -= 1
        if name == "ATAN" and len(args) == 1 and self.at("op", "/") and (self.peek(1) and self.peek(1).kind == "lbr"):
            self.pos += 1
            args.append(self.bracketed())
        expected = {"ATAN": (1, 2), "POW": (2,)}.get(name, (1,))
        if len(args) not in expected:
            raise self.error(f"{name} takes {' or '.join(map(str, expected))} argument(s)", "PS0114")
        return Func("RND" if name == "ROUND" else ("SQRT" if name == "SQR" else name), tuple(args))

    # -- words and statements
    def word_value(self) -> Expr:
        """The value after an address: [sign] (number | #var | [expr])."""
        tok = self.peek()
        if tok is None or tok.kind in ("addr", "kw", "assign", "rbr", "comma"):
            raise self.error("no value after the address", "PS0005")
        if tok.kind == "op" and tok.text in "+-":
            self.pos += 1
            nxt = self.peek()
            if nxt is None or nxt.kind not in ("num", "var", "lbr"):
                raise self.error("a sign without a value", "PS0006")
            inner = self.word_operand()
            if isinstance(inner, Num):     # a signed literal stays a literal
                return Num(-inner.value if tok.text == "-" else inner.value, inner.has_point)
            return Unary(tok.text, inner)
        return self.word_operand()

    def word_operand(self) -> Expr:
        tok = self.peek()
        if tok.kind == "num":
            self.pos += 1
            return Num(float(tok.text), tok.has_point)
        if tok.kind == "var":
            return self.variable()
        if tok.kind == "lbr":
            return self.bracketed()
        raise self.error(f"'{tok.text}' cannot follow an address", "PS0009")

    def statement(self) -> Statement:
        tok = self.peek()
        if tok.kind == "var":
            return self.assignment()
        word = tok.text
        self.pos += 1
        if word == "IF":
            cond = self.bracketed()
            if self.at("kw", "GOTO"):
                self.pos += 1
                return IfGoto(cond, self.word_value())
            if self.at("kw", "THEN"):
                self.pos += 1
                if not self.at("var"):
                    raise self.error("THEN must be followed by an assignment")
                return IfThen(cond, self.assignment())
            raise self.error("IF needs GOTO or THEN")
        if word == "GOTO":
            return Goto(self.word_value())
        if word == "WHILE":
            cond = self.bracketed()
            self.expect("kw", "DO")
            return While(cond, self.loop_number())
        if word == "DO":
            return While(None, self.loop_number())
        if word == "END":
            return End(self.loop_number())
        raise self.error(f"'{word}' cannot start a block")

    def loop_number(self) -> int:
        tok = self.peek()
        if tok is None or tok.kind != "num" or tok.has_point:
            raise self.error("loop number 1..3 expected", "PS0126")
        self.pos += 1
        return int(tok.text)

    def assignment(self) -> Assign:
        target = self.variable()
        self.expect("assign")
        value = self.comparison()
        return Assign(target, value)

    def done(self) -> None:
        if self.peek() is not None:
            raise self.error(f"unexpected '{self.peek().text}'")


_PLAIN_BLOCK = re.compile(r"\s*(/)?\s*(?:[Nn](\d{1,8})(?![\d.]))?"
                          r"((?:\s*[A-MO-Za-mo-z]\s*[+-]?(?:\d+\.?\d*|\.\d+))*)\s*$")
_PLAIN_WORD = re.compile(r"([A-Za-z])\s*([+-]?)(\d+\.?\d*|\.\d+)")


def _plain_block(text: str, line: int, column: int) -> Optional[Block]:
    """Fast path for the common block of plain words (no macro, no error); None when it does not apply."""
    m = _PLAIN_BLOCK.match(text)
    if m is None:
        return None
    delete, seq, body = m.groups()
    base = column + m.start(3)
    words = []
    for w in _PLAIN_WORD.finditer(body):
        letter, sign, digits = w.groups()
        point = "." in digits
        if len(digits) - point > MAX_DIGITS:
            return None
        value = float(digits)
        words.append(Word(letter if letter.isupper() else letter.upper(), Num(-value if sign == "-" else value, point),
                          base + w.start()))
    return Block(line, column, None if seq is None else int(seq), delete is not None, tuple(words), None, None,
                 text)


def parse_block(text: str, line: int, column: int = 1) -> Block:
    """Parse one block's text (comments removed). Errors become a Block carrying its alarm."""
    fast = _plain_block(text, line, column)
    if fast is not None:
        return fast
    raw = text
    try:
        stripped = text.lstrip()
        offset = column + len(text) - len(stripped)
        delete = stripped.startswith("/")
        if delete:
            stripped = stripped[1:]
            offset += 1
        tokens = tokenize(stripped, line, offset)
        p = _Parser(tokens, line)
        seq = None
        if p.at("addr", "N"):
            p.pos += 1
            tok = p.peek()
            if tok is None or tok.kind != "num" or tok.has_point:
                raise p.error("N needs a whole number", "PS0007" if tok is not None and tok.has_point else "PS0005")
            seq = int(tok.text)
            p.pos += 1
        if p.peek() is not None and (p.at("var") or (p.at("kw") and p.peek().text in ("IF", "GOTO", "WHILE", "DO",
                                                                                         "END"))):
            stmt = p.statement()
            p.done()
            return Block(line, column, seq, delete, (), stmt, None, raw)
        words = []
        while p.peek() is not None:
            tok = p.take()
            if tok.kind != "addr":
                raise _alarm("PS0009", line, tok.column, f"'{tok.text}' where an address was expected")
            if tok.text == "N":
                raise _alarm("PS0009", line, tok.column, "N must start the block")
            words.append(Word(tok.text, p.word_value(), tok.column))
        return Block(line, column, seq, delete, tuple(words), None, None, raw)
    except Alarm as alarm:
        return Block(line, column, None, text.lstrip().startswith("/"), (), None, alarm, raw)


# The commonest line of long programs: upper-case words with plain numbers, one space between them, nothing else
# (no N or O word, no block delete, comment, ';' or other spacing), e.g. "G01 X93.7 Z63.3 F0.2".
# Possessive quantifiers (no backtracking: a shorter number would leave a digit or point where a space or the end
# must follow) make the check of each line a quarter faster.
_NUMBER = r"[+-]?+(?:[0-9]++\.?+[0-9]*+|\.[0-9]++)"
_SPACED_WORDS = re.compile(rf"[A-MP-Z]{_NUMBER}(?: [A-MP-Z]{_NUMBER})*+")


def _spaced_block(text: str, line: int) -> Optional[Block]:
    """The block of a line of :data:`_SPACED_WORDS`, read with ``str.split`` (a third of the time of the regular
    expressions of :func:`_plain_block`); the same Block as :func:`parse_block`. None for any other line.
    Word and Num are built with ``tuple.__new__``, as their own ``__new__`` does after a Python-level call that
    costs as much again (a few words on each of 100,000 lines)."""
    if _SPACED_WORDS.fullmatch(text) is None:
        return None
    words = []
    column = 1
    for word in text.split(" "):
        if len(word) > MAX_DIGITS + 1:
            return None                  # perhaps too many digits: parse_block has the alarm
        number = word[1:]
        words.append(_new_tuple(Word, (word[0], _new_tuple(Num, (float(number), "." in number)), column)))
        column += len(word) + 1
    return Block(line, 1, None, False, tuple(words), None, None, text)


_new_tuple = tuple.__new__


class Blocks(Sequence):
    """A program's blocks, read lazily: a line of :data:`_SPACED_WORDS` (the commonest line of long programs) is
    kept as its line number in ``entries`` until something asks for its :class:`Block`, so that an interpreter
    can execute it from its text without one (``ProgramRunner.step``). Reading gives the very Block
    :func:`split_programs` gives."""

    __slots__ = ("entries", "lines")

    def __init__(self, entries: list, lines: Sequence[str] = ()):
        self.entries = entries      # Block, or the 1-based line number of a spaced line not read yet
        self.lines = lines          # the file's lines

    def __len__(self) -> int:
        return len(self.entries)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return tuple(self[i] for i in range(*index.indices(len(self.entries))))
        entry = self.entries[index]
        if type(entry) is int:
            entry = self.entries[index] = _spaced_line_block(self.lines[entry - 1], entry)
        return entry

    def __iter__(self):
        for index in range(len(self.entries)):
            yield self[index]

    def statement_at(self, index: int) -> Optional[Statement]:
        """Block ``index``'s macro statement, without reading a spaced line (which has none)."""
        entry = self.entries[index]
        return None if type(entry) is int else entry.statement

    def __eq__(self, other) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, str):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other))
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return f"Blocks({list(self)!r})"


def _spaced_line_block(text: str, line: int) -> Block:
    """The Block of a line that matched :data:`_SPACED_WORDS`: what :func:`split_programs` makes of it."""
    block = _spaced_block(text, line)
    return block if block is not None else parse_block(text, line, 1)


def split_programs(source: str) -> list[ProgramText]:
    """Split a file into programs of blocks. The first program is the main program."""
    programs = read_programs(source)
    for program in programs:
        program.blocks = list(program.blocks)
    return programs


def read_programs(source: str) -> list[ProgramText]:
    """:func:`split_programs` with each program's blocks as :class:`Blocks` (spaced lines not read yet)."""
    programs: list[ProgramText] = []
    current: Optional[ProgramText] = None
    percent_seen = 0
    lines = source.splitlines()
    spaced = _SPACED_WORDS.fullmatch
    for line_no, line_text in enumerate(lines, start=1):
        if spaced(line_text) is not None:
            if current is None:
                current = _new_program(programs, 0, line_no, lines)
            current.blocks.entries.append(line_no)
            continue
        if "%" in line_text and line_text.strip().startswith("%"):
            percent_seen += 1
            if percent_seen >= 2:
                break
            continue
        if "(" not in line_text and ";" not in line_text:
            chunks = ((1, line_text, None),)
        else:
            chunks = _blocks_of_line(line_text, line_no)
        for column, chunk, error in chunks:
            if error is not None:
                if current is None:
                    current = _new_program(programs, 0, line_no, lines)
                current.blocks.entries.append(Block(line_no, column, error=error, text=chunk))
                continue
            body = chunk.strip()
            if not body:
                continue
            number = _program_number(body)
            if number is not None:
                current = _new_program(programs, number, line_no, lines)
                continue
            if current is None:
                current = _new_program(programs, 0, line_no, lines)
            current.blocks.entries.append(parse_block(chunk, line_no, column))
    return programs


def _new_program(programs: list, number: int, line: int, lines: list) -> ProgramText:
    program = ProgramText(number, line, Blocks([], lines))
    programs.append(program)
    return program


def _program_number(body: str) -> Optional[int]:
    """The O number if the block is a program-number block ('O1234' or ':1234')."""
    if body[0] not in "Oo:":
        return None
    digits = body[1:].strip()
    if digits.isdigit() and 1 <= len(digits) <= MAX_DIGITS:
        return int(digits)
    return None


def _blocks_of_line(line_text: str, line_no: int):
    """Yield (column, text without comments, alarm or None) for each ';'-separated block of a line."""
    chunk, start, i, n = [], 1, 0, len(line_text)
    while i < n:
        ch = line_text[i]
        if ch == "(":
            close = line_text.find(")", i + 1)
            if close < 0:
                yield start, "".join(chunk), _alarm("PS0009", line_no, i + 1, "comment not closed with ')'")
                return
            chunk.append(" " * (close - i + 1))  # keep columns of the words after the comment
            i = close + 1
            continue
        if ch == ";":
            yield start, "".join(chunk), None
            chunk, start = [], i + 2
            i += 1
            continue
        chunk.append(ch)
        i += 1
    yield start, "".join(chunk), None
