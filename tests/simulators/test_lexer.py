"""Tokenizer and block parser: words, comments, programs, block delete, macro statements, errors with columns."""
import pytest

from simulators.core.lexer import (Assign, Binary, End, Func, Goto, IfGoto, IfThen, Num, Unary, Var, While,
                                   parse_block, split_programs, tokenize)


def words(block):
    return [(w.letter, w.value) for w in block.words]


def test_plain_words_keep_the_decimal_point():
    b = parse_block("G01 X100 Z-2.5 F0.2", 7)
    assert b.line == 7 and b.error is None
    assert words(b) == [("G", Num(1.0, False)), ("X", Num(100.0, False)),
                        ("Z", Num(-2.5, True)), ("F", Num(0.2, True))]


def test_columns_are_one_based_and_survive_comments():
    b = split_programs("O1\nG00 (RAPID) X5.")[0].blocks[0]
    # "G00 (RAPID) X5." : X is the 13th character of line 2
    assert b.line == 2 and b.words[1].letter == "X" and b.words[1].column == 13


def test_sequence_number_and_block_delete():
    b = parse_block("/N120 G00 X1.", 1)
    assert b.delete and b.seq == 120 and words(b)[0] == ("G", Num(0.0, False))


def test_macro_words_and_statements():
    b = parse_block("X#1 Z-[#2+1.]", 1)
    assert b.words[0].value == Var(Num(1.0, False))
    assert b.words[1].value == Unary("-", Binary("+", Var(Num(2.0, False)), Num(1.0, True)))
    assert parse_block("#1=#2*3", 1).statement == Assign(Var(Num(1, False)), Binary("*", Var(Num(2, False)),
                                                                                        Num(3, False)))
    s = parse_block("IF [#1 GT 10] GOTO 20", 1).statement
    assert isinstance(s, IfGoto) and s.condition.op == "GT" and s.target == Num(20, False)
    assert isinstance(parse_block("IF[#1EQ#0]THEN#3=1", 1).statement, IfThen)
    assert parse_block("WHILE [#1 LE 5] DO 2", 1).statement.loop == 2
    assert isinstance(parse_block("WHILE [#1 LE 5] DO 2", 1).statement, While)
    assert parse_block("END2", 1).statement == End(2)
    assert parse_block("GOTO#5", 1).statement == Goto(Var(Num(5, False)))


def test_operator_precedence_fanuc():
    # * before +, comparison last: 1 + 2 * 3 GT 6 → (1 + (2*3)) GT 6
    e = parse_block("#1=1+2*3GT6", 1).statement.value
    assert e.op == "GT" and e.left.op == "+" and e.left.right.op == "*"


def test_atan_two_argument_forms():
    a = parse_block("#1=ATAN[1]/[2]", 1).statement.value
    b = parse_block("#1=ATAN[1,2]", 1).statement.value
    assert a == b == Func("ATAN", (Num(1, False), Num(2, False)))


def test_programs_split_on_o_numbers_and_percent():
    src = "%\nO0001 (MAIN)\nG00 X1.\nM30\nO1002\nM99\n%\nG01 X9.\n"
    progs = split_programs(src)
    assert [p.number for p in progs] == [1, 1002]
    assert [b.line for b in progs[0].blocks] == [3, 4]
    assert progs[1].blocks[0].line == 6       # the text after the second % is ignored


def test_semicolon_ends_blocks():
    progs = split_programs("G00 X1.;G01 Z2.")
    assert len(progs[0].blocks) == 2 and progs[0].blocks[1].words[0].column == 9


@pytest.mark.parametrize("text,code,column", [
    ("X1.2.3", "PS0007", 2),        # two decimal points
    ("X123456789", "PS0003", 2),    # 9 digits
    ("G01 X", "PS0005", 5),         # no value after X (reported at the address' end)
    ("G01 $", "PS0009", 5),         # unknown character
    ("XYZ1.", "PS0009", 1),         # a run of letters that is no keyword
    ("#1=[1+2", "PS0114", 7),       # missing ]
])
def test_errors_carry_code_line_and_column(text, code, column):
    b = parse_block(text, 4)
    assert b.error is not None and b.error.code == code and b.error.line == 4
    assert b.error.column == column


def test_unclosed_comment_is_an_alarm_at_its_column():
    progs = split_programs("O1\nG00 (NO END\n")
    err = progs[0].blocks[0].error
    assert err.code == "PS0009" and err.line == 2 and err.column == 5


def test_bracket_nesting_limit():
    assert parse_block("#1=[[[[[1]]]]]", 1).error is None          # 5 levels
    assert parse_block("#1=[[[[[[1]]]]]]", 1).error.code == "PS0118"  # 6 levels


def test_tokenize_keyword_prefix():
    toks = tokenize("GOTO10", 1)
    assert [(t.kind, t.text) for t in toks] == [("kw", "GOTO"), ("num", "10")]


def test_spaced_line_fast_path_matches_parse_block():
    """_spaced_block (split_programs' fast path for 'G01 X93.7 Z63.3 F0.2' lines) builds the very Block that
    parse_block builds, or declines."""
    import random

    from simulators.core.lexer import _spaced_block
    rnd = random.Random(11)
    numbers = ["0", "-0", "+5", "12.", ".5", "-.25", "100", "12345678", "123456789", "1234.5678", "-99999.999",
               "0.0001", "007", "1.2.3", "", "-", "."]
    lines = ["G01 X93.7 Z63.3 F0.2", "M30", "G00 U-1. W.5", "X-0.", "O0001 X1.", "N10 G01 X1.", "g01 x1.", " G01 X1.",
             "G01  X1.", "G01 X1. ", "G01\tX1.", "G01X1.", "T0101", "S600 M03"]
    for _ in range(2000):
        lines.append(" ".join(rnd.choice("GXZUWFMSTIKRPQNO") + rnd.choice(numbers) for _ in range(rnd.randint(1, 5))))
    taken = 0
    for text in lines:
        fast = _spaced_block(text, 3)
        if fast is not None:
            taken += 1
            slow = parse_block(text, 3)
            assert fast == slow and repr(fast) == repr(slow), text
    assert taken > 300
    assert _spaced_block("G01 X93.7 Z63.3 F0.2", 3) is not None
