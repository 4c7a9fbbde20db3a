"""Program memory and EDIT-mode editing with the MDI keys (simulators/core/editor.py, editor_units.py).

Every expected program text below is written by hand from the FANUC key procedure, not taken from the code.
"""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulators.core.editor import EDIT_REJECTED, FORMAT_ERROR, Editor, ProgramStore, check
from simulators.core.editor_units import changed_lines, lexer_alarms, split_units

PART = "O0001 (SHAFT A) ;\nN10 G00 X100. Z2. ;\nN20 G01 Z-5. F0.2 ;\nN30 X100.0 ;\nN40 M30 ;\n"


def editor_with(text: str = PART, number: int = 1, **limits) -> Editor:
    editor = Editor(ProgramStore(**limits))
    assert editor.replace_text(number, text).ok
    return editor


def type_and(editor: Editor, chars: str, key: str):
    if chars:
        assert editor.key(chars).ok
    return editor.press(key)


def put_cursor_on(editor: Editor, word: str) -> None:
    editor.reset()
    assert type_and(editor, word, "DOWN").ok, word
    assert editor.view()["cursor"]["text"] == word


def text(editor: Editor) -> str:
    return editor.view()["text"]


# ---------------------------------------------------------------------------------------------- editing units


def test_units_are_words_eobs_comments_and_macro_statements():
    source = "O1234 (PART A)\nN10 G00 X100. Z2. ;\n/N20 #1=#2+[#3*2] ;\nIF[#1GT5]GOTO10\nX #1 Y-2.5(c)\n%\n"
    units = [(u.kind, u.text) for u in split_units(source)]
    assert units == [
        ("program", "O1234"), ("comment", "(PART A)"), ("eob", "\n"),
        ("word", "N10"), ("word", "G00"), ("word", "X100."), ("word", "Z2."), ("eob", ";\n"),
        ("slash", "/"), ("word", "N20"), ("macro", "#1=#2+[#3*2]"), ("eob", ";\n"),   # '=' does not separate
        ("macro", "IF[#1GT5]"), ("macro", "GOTO10"), ("eob", "\n"),                 # GOTO separates, GT does not
        ("word", "X #1"), ("word", "Y-2.5"), ("comment", "(c)"), ("eob", "\n"),       # X waits for its value
        ("percent", "%"), ("eob", "\n"),
    ]


def test_units_keep_their_span_in_the_text():
    source = "G00  X1. ;\n"
    x = split_units(source)[1]
    assert (x.start, x.end, source[x.start:x.end]) == (5, 8, "X1.")


def test_changed_lines_are_whole_lines_around_the_edit():
    assert changed_lines("A1\nB2\nC3\n", "A1\nB25\nC3\n") == ("B2\n", "B25\n")
    assert changed_lines("A1\nB2\nC3\n", "A1\nB2 C3\n") == ("B2\nC3\n", "B2 C3\n")   # an EOB deleted
    assert changed_lines("A1\n", "A1\n") == ("", "")


# ---------------------------------------------------------------------------------------------- directory


def test_o_number_and_insert_creates_a_program_with_its_eob():
    editor = Editor()
    result = type_and(editor, "O1234", "INSERT")
    assert result.ok
    view = editor.view()
    assert view["text"] == "O1234 ;\n"
    assert view["selected"] == 1234 and view["buffer"] == ""
    assert view["cursor"]["text"] == ";\n"      # the next INSERT starts the second block
    assert view["directory"] == [{"number": 1234, "name": "O1234", "size": 8, "comment": "", "locked": False}]


def test_entering_a_program_by_keys():
    editor = Editor()
    type_and(editor, "O1234", "INSERT")
    assert type_and(editor, "G00X100.Z2.", "EOB").ok
    assert editor.insert().ok
    assert type_and(editor, "G01Z-5.F0.2;M30;", "INSERT").ok
    assert text(editor) == "O1234 ;\nG00 X100. Z2. ;\nG01 Z-5. F0.2 ;\nM30 ;\n"
    assert editor.view()["cursor"] == {"unit": 11, "line": 4, "word": 1, "text": ";\n", "start": 44, "end": 46}


def test_an_exam_program_keyed_in_character_by_character_with_a_typo_fixed():
    blocks = ["T0101", "M03S800", "G00X52.Z2.", "G71U1.5R0.5", "G71P10Q20U0.5W0.1F0.2", "N10G00X20.",
              "G01Z-25.F0.1", "N20X50.", "G70P10Q20", "G00X100.Z100.", "M30"]
    editor = Editor()
    for ch in "O0001":
        editor.press("CHAR", ch)
    assert editor.press("INSERT").ok
    for block in blocks:
        for ch in block:
            assert editor.press("CHAR", ch).ok
        assert editor.press("EOB").ok and editor.press("INSERT").ok, block
    assert type_and(editor, "Z-25.", "UP").ok              # the typo, searched backward from the end
    assert type_and(editor, "Z-20.", "ALTER").ok
    assert text(editor) == ("O0001 ;\nT0101 ;\nM03 S800 ;\nG00 X52. Z2. ;\nG71 U1.5 R0.5 ;\n"
                            "G71 P10 Q20 U0.5 W0.1 F0.2 ;\nN10 G00 X20. ;\nG01 Z-20. F0.1 ;\nN20 X50. ;\n"
                            "G70 P10 Q20 ;\nG00 X100. Z100. ;\nM30 ;\n")
    assert editor.check() == []
    assert len(editor.store.program_memory(1).main.blocks) == 11


def test_existing_number_is_ps0073_and_nothing_changes():
    editor = editor_with()
    result = type_and(editor, "O0001", "INSERT")
    assert not result.ok and result.alarm.code == "PS0073"
    assert result.message == "PS0073 PROGRAM NUMBER ALREADY IN USE"
    assert text(editor) == PART and editor.view()["buffer"] == "O0001"   # the buffer stays for a correction


def test_too_many_programs_is_ps0072():
    editor = Editor(ProgramStore(max_programs=2))
    assert type_and(editor, "O1", "INSERT").ok
    assert type_and(editor, "O2", "INSERT").ok
    result = type_and(editor, "O3", "INSERT")
    assert result.alarm.code == "PS0072"
    assert [d["number"] for d in editor.view()["directory"]] == [1, 2]


def test_memory_full_is_ps0070():
    # "O0001 ;\n" is 8 characters; inserting "G00 X1. ;\n" (10) would make 18 > 15.
    editor = Editor(ProgramStore(max_characters=15))
    assert type_and(editor, "O1", "INSERT").ok
    result = type_and(editor, "G00X1.;", "INSERT")
    assert result.alarm.code == "PS0070" and text(editor) == "O0001 ;\n"


@pytest.mark.parametrize("number", ["O0", "O10000"])
def test_program_numbers_are_1_to_9999(number):
    result = type_and(Editor(), number, "INSERT")
    assert result.alarm.code == "PS0074"


def test_o_number_and_delete_removes_the_program():
    editor = editor_with()
    type_and(editor, "O2", "INSERT")
    assert type_and(editor, "O0001", "DELETE").ok
    assert [d["number"] for d in editor.view()["directory"]] == [2]
    assert type_and(editor, "O0001", "DELETE").alarm.code == "PS0071"


def test_deleting_the_selected_program_leaves_nothing_selected():
    editor = editor_with()
    assert type_and(editor, "O1", "DELETE").ok
    assert editor.view()["selected"] is None and editor.view()["text"] == ""
    assert type_and(editor, "X1.", "INSERT").message == EDIT_REJECTED


def test_program_search_selects_and_puts_the_cursor_at_the_head():
    editor = editor_with()
    type_and(editor, "O0005", "INSERT")
    assert type_and(editor, "O1", "DOWN").ok
    assert editor.view()["selected"] == 1 and editor.view()["cursor"]["text"] == "O0001"
    assert type_and(editor, "O", "DOWN").ok              # O alone: the next program of the directory
    assert editor.view()["selected"] == 5
    assert type_and(editor, "O", "DOWN").alarm.code == "PS0071"
    assert editor.select(77).alarm.code == "PS0071"
    assert editor.select(1).ok and editor.view()["selected"] == 1


def test_directory_shows_the_comment_of_the_first_line():
    editor = editor_with()
    assert editor.view()["directory"][0]["comment"] == "SHAFT A"
    assert editor.view()["directory"][0]["size"] == len(PART)


def test_load_a_file_of_programs_and_build_program_memory():
    store = ProgramStore()
    assert store.load("%\nO0001\nM98 P1002\nM30\nO1002 (SUB)\nG00 X1.\nM99\n%\nO0009\n") == [1, 1002]
    assert store.text(1002) == "O1002 (SUB)\nG00 X1.\nM99\n"
    memory = store.program_memory(1002)
    assert memory.main.number == 1002 and sorted(memory.programs) == [1, 1002]
    assert memory.get(1, 0).blocks[0].line == 2          # lines count within each program's own text


# ---------------------------------------------------------------------------------------------- word edits


def test_insert_goes_after_the_cursor_word():
    editor = editor_with()
    put_cursor_on(editor, "X100.")
    assert type_and(editor, "Y3.", "INSERT").ok
    assert text(editor) == PART.replace("X100. Z2.", "X100. Y3. Z2.")
    assert editor.view()["cursor"]["text"] == "Y3."


def test_insert_after_an_eob_starts_a_new_block():
    editor = editor_with()
    put_cursor_on(editor, "Z2.")
    editor.cursor_right()                                  # onto the EOB of N10
    assert type_and(editor, "N15G04X1.;", "INSERT").ok
    assert text(editor) == PART.replace("Z2. ;\n", "Z2. ;\nN15 G04 X1. ;\n")
    assert editor.view()["cursor"] == {"unit": 11, "line": 3, "word": 3, "text": ";\n", "start": 50, "end": 52}


def test_insert_with_an_eob_splits_the_block():
    editor = editor_with()
    put_cursor_on(editor, "X100.")
    assert type_and(editor, ";G01", "INSERT").ok
    assert text(editor) == PART.replace("X100. Z2.", "X100. ;\nG01 Z2.")


def test_alter_replaces_the_cursor_word():
    editor = editor_with()
    put_cursor_on(editor, "Z-5.")
    assert type_and(editor, "Z-6.5", "ALTER").ok
    assert text(editor) == PART.replace("Z-5.", "Z-6.5")
    assert editor.view()["cursor"]["text"] == "Z-6.5"


def test_alter_by_two_words():
    editor = editor_with()
    put_cursor_on(editor, "F0.2")
    assert type_and(editor, "F0.1S800", "ALTER").ok
    assert text(editor) == PART.replace("F0.2", "F0.1 S800")


def test_the_program_number_cannot_be_altered_or_deleted():
    editor = editor_with()
    assert type_and(editor, "O2", "ALTER").message == EDIT_REJECTED
    editor.can(), editor.can()
    assert editor.delete().message == EDIT_REJECTED
    assert text(editor) == PART


def test_delete_removes_the_cursor_word_and_the_cursor_goes_to_the_next():
    editor = editor_with()
    put_cursor_on(editor, "Z2.")
    assert editor.delete().ok
    assert text(editor) == PART.replace("X100. Z2. ;", "X100. ;")
    assert editor.view()["cursor"]["text"] == ";\n"


def test_macro_statements_are_keyed_in_whole():
    editor = editor_with()
    put_cursor_on(editor, "N30")
    editor.cursor_up()                                     # onto N20, the head of the block before
    editor.cursor_left()                                   # the EOB of N10
    assert type_and(editor, "#1=#1+1;IF[#1LT3]GOTO20;", "INSERT").ok
    assert text(editor) == PART.replace("Z2. ;\n", "Z2. ;\n#1=#1+1 ;\nIF[#1LT3] GOTO20 ;\n")
    assert check(text(editor)) == []


def test_a_percent_line_cannot_be_edited():
    editor = editor_with("O0001 ;\nM30 ;\n%\n")
    put_cursor_on(editor, "M30")
    editor.cursor_right(), editor.cursor_right()
    assert editor.view()["cursor"]["text"] == "%"
    assert editor.delete().message == EDIT_REJECTED
    assert type_and(editor, "M02", "ALTER").message == EDIT_REJECTED


def test_deleting_an_eob_joins_two_blocks():
    editor = editor_with("O0001 ;\nG00 X1. ;\nZ2. ;\n")
    put_cursor_on(editor, "X1.")
    editor.cursor_right()
    assert editor.delete().ok
    assert text(editor) == "O0001 ;\nG00 X1. Z2. ;\n"


def test_a_program_with_an_error_can_still_be_edited_elsewhere():
    editor = editor_with("O0001 ;\nG01 X1.2.3 ;\nM30 ;\n")
    put_cursor_on(editor, "M30")
    assert type_and(editor, "M05;", "INSERT").ok               # FANUC: "M30 M05 ;" and an empty block ";"
    assert text(editor) == "O0001 ;\nG01 X1.2.3 ;\nM30 M05 ;\n;\n"
    assert [a.code for a in lexer_alarms(text(editor))] == ["PS0007"]


def test_an_edit_that_makes_a_block_unreadable_is_a_format_error():
    editor = editor_with()
    put_cursor_on(editor, "Z2.")
    editor.cursor_right()
    result = editor.delete()                    # joins "N10 ... Z2." and "N20 ...": N must start a block
    assert not result.ok and result.message == FORMAT_ERROR and "PS0009" in result.detail
    assert text(editor) == PART and editor.view()["cursor"]["text"] == ";\n"


def test_eob_and_delete_removes_up_to_the_end_of_the_block():
    editor = editor_with()
    put_cursor_on(editor, "N20")
    assert type_and(editor, "", "EOB").ok and editor.view()["buffer"] == ";"
    assert editor.delete().ok
    assert text(editor) == "O0001 (SHAFT A) ;\nN10 G00 X100. Z2. ;\nN30 X100.0 ;\nN40 M30 ;\n"
    assert editor.view()["cursor"]["text"] == "N30"


def test_n_number_and_delete_removes_the_blocks_up_to_it():
    editor = editor_with()
    put_cursor_on(editor, "N10")
    assert type_and(editor, "N30", "DELETE").ok
    assert text(editor) == "O0001 (SHAFT A) ;\nN40 M30 ;\n"


def test_n_number_not_after_the_cursor_is_ps0071():
    editor = editor_with()
    put_cursor_on(editor, "N30")
    result = type_and(editor, "N10", "DELETE")
    assert result.alarm.code == "PS0071" and text(editor) == PART


# ---------------------------------------------------------------------------------------------- key-in buffer


def test_can_deletes_the_last_character_and_eob_adds_a_semicolon():
    editor = editor_with()
    editor.key("x10.5")                         # the MDI letter keys are upper case
    editor.can()
    editor.eob()
    assert editor.view()["buffer"] == "X10.;"
    editor.can(), editor.can(), editor.can(), editor.can(), editor.can()
    assert editor.view()["buffer"] == "" and editor.can().ok


@pytest.mark.parametrize("keyed", ["X", "X1.2.3", "123", "#1=", "G01X1N5", "(OPEN"])
def test_unreadable_key_in_is_a_format_error(keyed):
    editor = editor_with()
    put_cursor_on(editor, "Z2.")
    result = type_and(editor, keyed, "INSERT")
    assert result.message == FORMAT_ERROR
    assert text(editor) == PART and editor.view()["buffer"] == keyed


def test_a_key_the_mdi_unit_does_not_have_changes_nothing():
    editor = editor_with()
    result = editor.key("X!")
    assert not result.ok and editor.view()["buffer"] == ""


def test_the_key_in_buffer_holds_128_characters():
    editor = editor_with()
    assert editor.key("X1." * 42 + "XX").ok     # 128 characters
    result = editor.key("1")
    assert not result.ok and len(editor.view()["buffer"]) == 128


def test_empty_buffer_insert_or_alter_changes_nothing():
    editor = editor_with()
    assert not editor.insert().ok and not editor.alter().ok
    assert text(editor) == PART


# ---------------------------------------------------------------------------------------------- cursor and search


def test_cursor_moves_by_word_and_by_block():
    editor = editor_with()
    assert editor.view()["cursor"]["text"] == "O0001"
    editor.cursor_left()
    assert editor.view()["cursor"]["unit"] == 0           # stays at the head
    editor.cursor_right(), editor.cursor_right(), editor.cursor_right()
    assert editor.view()["cursor"]["text"] == "N10"
    editor.cursor_down()
    assert editor.view()["cursor"]["text"] == "N20"
    editor.cursor_right()
    editor.cursor_up()                                    # mid-block: up goes to this block's head first
    assert editor.view()["cursor"]["text"] == "N20"
    editor.cursor_up()
    assert editor.view()["cursor"]["text"] == "N10"
    editor.page_down()
    assert editor.view()["cursor"]["text"] == "N40"       # last block
    editor.page_up()
    assert editor.view()["cursor"]["text"] == "O0001"
    for _ in range(40):
        editor.cursor_right()
    assert editor.view()["cursor"]["text"] == ";\n" and editor.view()["cursor"]["line"] == 5


def test_word_search_is_exact():
    editor = editor_with()
    assert type_and(editor, "X100.", "DOWN").ok
    assert editor.view()["cursor"]["line"] == 2           # not the X100.0 of N30
    assert type_and(editor, "X100.0", "DOWN").ok
    assert editor.view()["cursor"]["line"] == 4
    assert editor.view()["buffer"] == ""
    result = type_and(editor, "X100.", "DOWN")            # nothing further down: no wrap
    assert result.alarm.code == "PS0071" and editor.view()["cursor"]["line"] == 4


def test_address_search_and_backward_search():
    editor = editor_with()
    assert type_and(editor, "F", "DOWN").ok
    assert editor.view()["cursor"]["text"] == "F0.2"
    assert type_and(editor, "N", "SEARCH_FORWARD").ok
    assert editor.view()["cursor"]["text"] == "N30"
    assert type_and(editor, "G00", "UP").ok
    assert editor.view()["cursor"]["text"] == "G00"
    assert type_and(editor, "Z", "SEARCH_BACKWARD").alarm.code == "PS0071"


def test_reset_returns_the_cursor_to_the_program_head():
    editor = editor_with()
    put_cursor_on(editor, "M30")
    assert editor.press("RESET").ok
    assert editor.view()["cursor"]["unit"] == 0


def test_the_cursor_survives_a_text_changed_through_the_store():
    editor = editor_with()
    put_cursor_on(editor, "M30")
    editor.store.put(1, "O0001 ;\nM30 ;\n")                # e.g. the panel replaced it
    assert editor.delete().ok                             # the cursor was clamped onto the last unit, the EOB
    assert text(editor) == "O0001 ;\nM30"
    editor.store.delete(1)
    assert editor.cursor_down().ok and editor.view()["selected"] is None


def test_unknown_key_name_is_refused():
    editor = editor_with()
    assert not editor.press("SHIFT").ok and not editor.press(None).ok


# ---------------------------------------------------------------------------------------------- lock, whole text


def test_a_locked_program_cannot_be_edited():
    editor = editor_with()
    editor.store.lock(1)
    put_cursor_on(editor, "Z2.")
    for keyed, key in (("Y1.", "INSERT"), ("Z3.", "ALTER"), ("", "DELETE"), ("O1", "DELETE")):
        result = type_and(editor, keyed, key)
        assert result.message == EDIT_REJECTED, key
        editor.buffer = ""
    assert editor.replace_text(1, "O0001 ;\nM30 ;\n").message == EDIT_REJECTED
    assert text(editor) == PART and editor.view()["directory"][0]["locked"]
    editor.store.unlock(1)
    assert type_and(editor, "Y1.", "INSERT").ok


def test_replace_text_checks_the_program_number():
    editor = editor_with()
    assert editor.replace_text(1, "O0002 ;\nM30 ;\n").message == FORMAT_ERROR
    assert editor.replace_text(1, "O0001 ;\nM30 ;\nO0003 ;\nM99 ;\n").message == FORMAT_ERROR
    assert editor.replace_text(1, "G00 X1.\n").message == FORMAT_ERROR
    assert text(editor) == PART
    assert editor.replace_text(1, "O0001\r\nG00 X1.\rM30").ok       # line breaks as the lexer reads them
    assert text(editor) == "O0001\nG00 X1.\nM30\n"


def test_replace_text_keeps_a_program_with_errors_and_check_reports_them():
    editor = editor_with("O0001 ;\nG01 X1.2.3 ;\nM30 ;\n")
    alarms = editor.check()
    assert [(a.code, a.line, a.column) for a in alarms] == [("PS0007", 2, 6)]   # "G01 X1.2.3": the number at 6


# ---------------------------------------------------------------------------------------------- background check


def test_check_reports_every_alarm_with_line_and_column():
    source = ("O0001\n"
              "N10 G00 X1..5\n"         # line 2: two decimal points, the number starts at column 10
              "WHILE [#1 LT 3] DO 1\n"  # line 3: DO 1 never ends
              "GOTO 50\n"               # line 4: no N50
              "END 4\n"                 # line 5: loop numbers are 1..3
              "M98 P1002\n"             # line 6: O1002 is not in memory; P at column 5
              "M98 P21003\n"            # O1003 is (below), twice
              "M30\n"
              "O1003\n"
              "M99\n")
    found = [(a.code, a.line, a.column) for a in check(source)]
    assert found == [("PS0007", 2, 10), ("PS0124", 3, 1), ("PS0078", 4, 1), ("PS0126", 5, 1), ("PS0076", 6, 5)]


def test_check_knows_the_other_stored_programs():
    assert check("O0001\nM98 P1002\nM30\n", frozenset({1002})) == []
    assert [a.code for a in check("O0001\nG65 P9010 L2\n")] == ["PS0076"]


def test_a_clean_program_checks_clean():
    assert check(PART) == []


# ---------------------------------------------------------------------------------------------- properties

KEYS = ["INSERT", "ALTER", "DELETE", "CAN", "EOB", "LEFT", "RIGHT", "UP", "DOWN", "PAGE_UP", "PAGE_DOWN", "RESET",
        "SEARCH_FORWARD", "SEARCH_BACKWARD"]
WORDS = ["G01", "X10.", "Z-2.5", "F0.1", "M30", "N20", "N25", ";", "#1=5", "IF[#1GT5]GOTO20", "WHILE[#1LT3]DO1",
         "END1", "(NOTE)", "/", "O1", "O0002", "X100."]
CHARS = ["G", "X", "N", "O", "#", "=", "[", "]", "-", ".", "0", "5", ";", "(", ")", "IF", "GOTO", "GT", "!", " "]
EVENTS = st.one_of(st.sampled_from(KEYS).map(lambda k: (k, "")),
                   st.sampled_from(CHARS).map(lambda c: ("CHAR", c)),
                   st.tuples(st.sampled_from(KEYS[:3] + ["DOWN"]), st.sampled_from(WORDS + [""])),  # word + key
                   st.integers(0, 3).map(lambda n: ("SELECT", n)))


def _apply(editor: Editor, key: str, arg) -> list:
    """Apply one event; a word with an edit key is typed on a cleared buffer (CAN pressed until empty)."""
    if key == "SELECT":
        return [editor.select(arg)]
    if key == "CHAR" or not arg:
        return [editor.press(key, arg)]
    results = [editor.can() for _ in editor.buffer]
    return results + [editor.key(arg), editor.press(key)]


def _state(editor: Editor) -> tuple:
    view = editor.view()
    return repr(sorted(editor.store.texts.items())), view["selected"], view["cursor"], view["buffer"]


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 20), st.lists(EVENTS, max_size=40))
def test_random_keys_never_raise_and_keep_programs_lexable(start, events):
    editor = editor_with()
    for _ in range(start):
        editor.cursor_right()
    for key, arg in events:
        before = _state(editor)
        results = _apply(editor, key, arg)
        if len(results) == 1 and not results[0].ok:
            assert _state(editor) == before                # a refused key changes nothing but the message
        for number, program in editor.store.texts.items():
            assert lexer_alarms(program) == [], (number, program)
            assert program.lstrip().startswith(f"O{number:04d}")


@settings(max_examples=50, deadline=None)
@given(st.lists(EVENTS, max_size=30))
def test_the_same_keys_give_the_same_state(events):
    views = []
    for _ in range(2):
        editor = editor_with()
        for key, arg in events:
            _apply(editor, key, arg)
        views.append(editor.view())
    assert views[0] == views[1]
