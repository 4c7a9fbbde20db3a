"""Excel bank import/export: the layout Chinese banks use, all-or-nothing import, round trips."""
from __future__ import annotations

import io

import pytest
from openpyxl import Workbook, load_workbook

from assessment.bank import Blueprint, Item, Point, Range
from assessment.excel import BankImportRejected, export_bank, import_bank

HEADER = ["鉴定点代码", "题型", "题干", "选项A", "选项B", "选项C", "选项D", "答案", "难度", "重要程度"]
#          A            B       C       D        E        F        G        H       I       J
GOOD_ROWS = [
    ["A-A-001", "单选", "G00 指令的含义是", "快速定位", "直线插补", "顺圆插补", "逆圆插补", "A", 0.8, "X"],
    ["A-A-002", "单选", "G01 指令的含义是", "快速定位", "直线插补", "顺圆插补", "逆圆插补", "B", 0.7, "X"],
    ["A-B-001", "多选", "属于插补指令的有", "G00", "G01", "G02", "G04", "B,C", 0.55, "Y"],
    ["A-B-002", "判断", "G04 是暂停指令。", None, None, None, None, "对", 0.9, "Z"],
    ["A-B-002", "判断", "G00 可以切削工件。", None, None, None, None, "×", 0.85, "Z"],
    ["B-A-001", "填空", "Ø50 外圆 S=600 r/min 时切削速度约为多少 m/min？", None, None, None, None, 94.2, 0.5, "X"],
]


def _workbook(rows, header=HEADER, blueprint_rows=None) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "题目"
    ws.append(header)
    for row in rows:
        ws.append(row)
    if blueprint_rows is not None:
        bp = wb.create_sheet("细目表")
        bp.append(["层级", "代码", "名称", "比重", "重要程度"])
        for row in blueprint_rows:
            bp.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_import_reads_every_type_and_normalises_keys():
    result = import_bank(_workbook(GOOD_ROWS), "数控车工", 4)
    items = result.items
    assert [i.type for i in items] == ["single", "single", "multiple", "true_false", "true_false", "numeric"]
    assert [i.key for i in items] == ["A", "B", "BC", "T", "F", 94.2]
    assert items[0].options == ("快速定位", "直线插补", "顺圆插补", "逆圆插补")
    assert items[3].options == ()
    assert items[0].difficulty == 0.8 and items[0].status == "draft" and items[0].source == "national"
    assert result.importance == {"A-A-001": "X", "A-A-002": "X", "A-B-001": "Y", "A-B-002": "Z", "B-A-001": "X"}
    assert len({i.id for i in items}) == 6


def test_ids_derived_from_content_are_stable_across_imports():
    first = import_bank(_workbook(GOOD_ROWS), "数控车工", 4).items
    second = import_bank(_workbook(GOOD_ROWS), "数控车工", 4).items
    assert [i.id for i in first] == [i.id for i in second]


def test_bad_key_in_row_7_column_h_rejects_the_whole_file():
    bad = ["A-A-003", "单选", "G02 指令的含义是", "快速定位", "直线插补", "顺圆插补", "逆圆插补", "E", 0.6, "X"]
    rows = GOOD_ROWS + [bad]
    # header is row 1, so the 6 good rows are rows 2–7 and the bad one is row 8; move it to row 7
    rows = rows[:5] + [rows[6], rows[5]]
    with pytest.raises(BankImportRejected) as caught:
        import_bank(_workbook(rows), "数控车工", 4)
    problems = caught.value.problems
    assert [(p.row, p.column) for p in problems] == [(7, "H")]
    assert "E" in problems[0].reason_zh and "ABCD" in problems[0].reason_zh
    assert problems[0].message("zh-CN").startswith("题目 H7：")
    assert problems[0].message("en").startswith("题目 H7: key 'E' is not among the options ABCD")


def test_every_bad_cell_is_reported():
    rows = [list(r) for r in GOOD_ROWS]
    rows[0][8] = 1.5                   # row 2, I: difficulty outside 0..1
    rows[1][1] = "问答"                 # row 3, B: unknown type
    rows[2][7] = "B"                   # row 4, H: a multiple-choice key with one letter
    rows[3][7] = "也许"                 # row 5, H: not a true/false word
    rows[4][5] = "多余"                 # row 6, F: a true/false item with an option
    rows[5][7] = "九十四"               # row 7, H: numeric key not a number
    with pytest.raises(BankImportRejected) as caught:
        import_bank(_workbook(rows), "数控车工", 4)
    assert sorted((p.row, p.column) for p in caught.value.problems) == [
        (2, "I"), (3, "B"), (4, "H"), (5, "H"), (6, "F"), (7, "H")]


def test_gap_in_options_and_missing_column():
    rows = [["A-A-001", "单选", "题干", "甲", None, "丙", "丁", "A", 0.5, "X"]]
    with pytest.raises(BankImportRejected) as caught:
        import_bank(_workbook(rows), "数控车工", 4)
    assert [(p.row, p.column) for p in caught.value.problems] == [(2, "E")]
    with pytest.raises(BankImportRejected) as caught:
        import_bank(_workbook([r[:7] + r[8:] for r in GOOD_ROWS], header=HEADER[:7] + HEADER[8:]), "数控车工", 4)
    assert [(p.row, p.reason_zh) for p in caught.value.problems] == [(1, "缺少列「答案」")]


def test_not_a_workbook_is_rejected():
    with pytest.raises(BankImportRejected):
        import_bank(b"not a zip", "数控车工", 4)


def _cells(data: bytes) -> list[list]:
    return [[c.value for c in row] for row in load_workbook(io.BytesIO(data))["题目"].iter_rows()]


def test_excel_to_items_to_excel_round_trip():
    first = import_bank(_workbook(GOOD_ROWS), "数控车工", 4)
    exported = export_bank(first.items)
    again = import_bank(exported, "数控车工", 4)
    assert again.items == first.items
    assert _cells(export_bank(again.items)) == _cells(exported)
    # the exported sheet still holds what the author typed (keys normalised: "B,C" → "BC", "×" → "错")
    assert [row[2:5] for row in _cells(exported)[1:3]] == [["A-A-001", "单选", "G00 指令的含义是"],
                                                           ["A-A-002", "单选", "G01 指令的含义是"]]


def test_items_to_excel_to_items_keeps_every_field():
    items = (
        Item("Q1", 3, "数控车工", 4, "A-A-001", "single", "题干一", ("甲", "乙", "丙", "丁", "戊", "己"), "F", 0.61,
             discrimination=0.42, enemy_group="E7", source="provincial", exposure=12, last_used="2026-05-01",
             status="active", media=("fig1.png", "fig2.svg")),
        Item("Q2", 1, "数控车工", 4, "A-B-001", "multiple", "题干二", ("甲", "乙", "丙"), "AC", 0.3, status="reviewed"),
        Item("Q3", 1, "数控车工", 4, "A-B-002", "true_false", "题干三", (), "F", 0.9, status="retired"),
        Item("Q4", 2, "数控车工", 4, "B-A-001", "numeric", "题干四", (), 12.5, 0.45, tolerance=0.05),
    )
    assert import_bank(export_bank(items), "数控车工", 4).items == items


def test_text_that_looks_like_a_formula_stays_text():
    items = (Item("Q1", 1, "数控车工", 4, "A-A-001", "single", "=1+1 的结果", ("=HYPERLINK(\"x\")", "2"), "B", 0.5),)
    data = export_bank(items)
    cell = load_workbook(io.BytesIO(data))["题目"]["E2"]
    assert (cell.value, cell.data_type) == ("=1+1 的结果", "s")
    assert import_bank(data, "数控车工", 4).items == items


BLUEPRINT_ROWS = [                          # sheet rows 2–10
    [1, "A", "基本要求", 30, None],
    [2, "A", "职业道德", 10, None],
    ["点", "001", "职业道德的概念", None, "X"],
    ["点", "002", "职业守则", None, "X"],
    [2, "B", "基础知识", 20, None],
    ["点", "001", "识图知识", None, "Y"],
    ["点", "002", "公差配合", None, "Z"],
    [1, "B", "相关知识", 70, None],
    [2, "A", "数控编程", 70, None],
    ["点", "001", "切削用量", None, "X"],
]


def test_blueprint_sheet_builds_the_tree():
    result = import_bank(_workbook(GOOD_ROWS, blueprint_rows=BLUEPRINT_ROWS), "数控车工", 4)
    bp = result.blueprint
    assert [r.code for r in bp.ranges] == ["A", "B"]
    assert [(r.code, r.weight_pct) for r in bp.ranges[0].children] == [("A", 10), ("B", 20)]
    assert [(p.code, p.importance) for p in bp.points()] == [
        ("A-A-001", "X"), ("A-A-002", "X"), ("A-B-001", "Y"), ("A-B-002", "Z"), ("B-A-001", "X")]
    assert len(result.items) == 6


def test_items_must_cite_blueprint_points_with_the_same_importance():
    rows = [list(r) for r in GOOD_ROWS]
    rows[1][0] = "A-A-009"       # row 3, A: not in the blueprint
    rows[2][9] = "X"             # row 4, J: A-B-001 is Y in the blueprint
    with pytest.raises(BankImportRejected) as caught:
        import_bank(_workbook(rows, blueprint_rows=BLUEPRINT_ROWS), "数控车工", 4)
    found = {(p.row, p.column) for p in caught.value.problems}
    assert {(3, "A"), (4, "J")} <= found
    assert (2, "A") not in found


def test_blueprint_weights_must_add_up():
    rows = [list(r) for r in BLUEPRINT_ROWS]
    rows[4][3] = 15          # 基础知识 15 + 职业道德 10 = 25 ≠ 30 under 基本要求 (sheet row 2, column D)
    rows[7][3] = 75          # level 1: 30 + 75 = 105 ≠ 100, reported at the first level-1 row (row 2)
    rows[8][3] = 75          # keep 数控编程 = 相关知识 so only the two sums above are wrong
    with pytest.raises(BankImportRejected) as caught:
        import_bank(_workbook(GOOD_ROWS[:1], blueprint_rows=rows), "数控车工", 4)
    messages = [(p.sheet, p.row, p.column) for p in caught.value.problems]
    assert messages.count(("细目表", 2, "D")) == 2


def test_blueprint_round_trip():
    blueprint = Blueprint("数控车工", 4, 1, (
        Range("A", "基本要求", 25, children=(
            Range("A", "职业道德", 5, points=(Point("A-A-001", "道德的概念", "Y"), Point("A-A-002", "职业道德", "X"))),
            Range("B", "基础知识", 20, points=(Point("A-B-001", "识图", "X"),)))),
        Range("B", "相关知识", 75, points=(Point("B-001", "编程", "Z"),)),
    ))
    items = (Item("Q1", 1, "数控车工", 4, "A-A-002", "true_false", "题干", (), "T", 0.7),)
    data = export_bank(items, blueprint)
    sheet = load_workbook(io.BytesIO(data))["题目"]
    assert [c.value for c in sheet[2]][13] == "X"           # 重要程度 taken from the blueprint
    result = import_bank(data, "数控车工", 4)
    assert result.blueprint == blueprint
    assert result.items == items


def test_demo_bank_blueprint_and_items_round_trip():
    from assessment.demo_bank import lathe_bank
    bank = lathe_bank()
    items = tuple(bank.items[:300])
    bp = bank.blueprint
    result = import_bank(export_bank(items, bp), bp.occupation, bp.level, blueprint_version=bp.version)
    assert result.blueprint == bp
    assert result.items == items
