"""Question bank and blueprint in the Excel layout Chinese banks use; import is all or nothing.

Sheet 「题目」 (or the first sheet): one row per item under a header row. Columns are found by their header, so
their order is free. Required: 鉴定点代码, 题型 (单选/多选/判断/填空), 题干, 答案, 难度; options in 选项A…选项H
(or A…H); optional: 题目编号, 版本, 容差, 重要程度, 区分度, 互斥组, 来源, 状态, 曝光次数, 最近使用, 媒体.
Sheet 「细目表」 (optional): the 鉴定要素细目表 flattened to one row per node: 层级 (1, 2, 3… for 鉴定范围, 「点」
for a 鉴定点), 代码, 名称, 比重 (% of the whole paper, ranges only), 重要程度 (X/Y/Z, points only). A point's full
code is its ranges' codes and its own joined by "-" (A, B, 003 → "A-B-003"), as items cite it.

Every bad cell is reported with sheet, row, column letter and a reason in zh-CN (English available) and then
nothing is returned: `BankImportRejected` carries the whole list. Works on bytes; no file system access.
"""
from __future__ import annotations

import io
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.utils import get_column_letter

from assessment.bank import IMPORTANCES, Blueprint, Item, Point, Range

ITEM_SHEET, BLUEPRINT_SHEET = "题目", "细目表"
LETTERS = "ABCDEFGH"
ID_NAMESPACE = uuid.UUID("6f1c3e0a-8a55-4c0e-9a51-2f0d7c1e4b7a")   # item ids derived from content when absent

TYPE_WORDS = {"单选": "single", "单选题": "single", "单项选择": "single", "单项选择题": "single",
              "多选": "multiple", "多选题": "multiple", "多项选择": "multiple", "多项选择题": "multiple",
              "判断": "true_false", "判断题": "true_false", "填空": "numeric", "填空题": "numeric",
              "数值填空": "numeric", "数值填空题": "numeric",
              "single": "single", "multiple": "multiple", "true_false": "true_false", "numeric": "numeric"}
TYPE_EXPORT = {"single": "单选", "multiple": "多选", "true_false": "判断", "numeric": "填空"}
TRUE_WORDS = {"T", "TRUE", "对", "正确", "√", "✓", "是", "Y"}
FALSE_WORDS = {"F", "FALSE", "错", "错误", "×", "✗", "否", "N"}
SOURCE_WORDS = {"国家": "national", "国家题库": "national", "national": "national",
                "省级": "provincial", "省": "provincial", "省级题库": "provincial", "provincial": "provincial"}
SOURCE_EXPORT = {"national": "国家", "provincial": "省级"}
STATUS_WORDS = {"草稿": "draft", "已审核": "reviewed", "启用": "active", "停用": "retired",
                "draft": "draft", "reviewed": "reviewed", "active": "active", "retired": "retired"}
STATUS_EXPORT = {"draft": "草稿", "reviewed": "已审核", "active": "启用", "retired": "停用"}

# field -> accepted headers (the first is written on export)
ITEM_COLUMNS = {
    "id": ("题目编号", "题号", "编号"), "version": ("版本",), "point_code": ("鉴定点代码", "鉴定点", "鉴定点编码"),
    "type": ("题型",), "stem": ("题干", "试题内容"), "key": ("答案", "正确答案", "标准答案"), "tolerance": ("容差",),
    "difficulty": ("难度", "难度系数"), "discrimination": ("区分度",), "importance": ("重要程度",),
    "enemy_group": ("互斥组",), "source": ("来源",), "status": ("状态",), "exposure": ("曝光次数",),
    "last_used": ("最近使用",), "media": ("媒体", "图片"),
}
REQUIRED_ITEM_COLUMNS = ("point_code", "type", "stem", "key", "difficulty")
BLUEPRINT_COLUMNS = {"level": ("层级",), "code": ("代码",), "name": ("名称",), "weight": ("比重", "鉴定比重"),
                     "importance": ("重要程度",)}
POINT_LEVEL_WORDS = {"点", "鉴定点", "P"}
WEIGHT_TOLERANCE = 0.05     # percentage points, as assessment.blueprint.weight_problems allows


@dataclass(frozen=True)
class Problem:
    sheet: str
    row: int
    column: str          # column letter, "" for a problem with the whole row or sheet
    reason_zh: str
    reason_en: str

    def message(self, locale: str = "zh-CN") -> str:
        where = f"{self.sheet} {self.column}{self.row}" if self.column else f"{self.sheet} 第{self.row}行"
        if not locale.startswith("zh"):
            where = f"{self.sheet} {self.column}{self.row}" if self.column else f"{self.sheet} row {self.row}"
            return f"{where}: {self.reason_en}"
        return f"{where}：{self.reason_zh}"


class BankImportRejected(ValueError):
    """The workbook was refused; `problems` lists every bad cell. Nothing was imported."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__(f"{len(problems)} problem(s): " + "; ".join(p.message("en") for p in problems[:5]))


@dataclass(frozen=True)
class BankImport:
    items: tuple[Item, ...]
    blueprint: Blueprint | None
    importance: dict[str, str] = field(default_factory=dict)   # point code -> X/Y/Z as the item rows state it


class _Sheet:
    """One sheet's header map and a problem list shared by the whole import."""

    def __init__(self, ws, columns: dict[str, tuple[str, ...]], problems: list[Problem]):
        self.name, self.problems = ws.title, problems
        header = [_text(c.value) for c in next(ws.iter_rows(min_row=1, max_row=1), ())]
        self.col = {}
        for fld, names in columns.items():       # the first accepted header present wins
            found = next((header.index(h) for h in names if h in header), None)
            if found is not None:
                self.col[fld] = found
        self.options = {}
        for j, text in enumerate(header):
            match = re.fullmatch(r"(?:选项)?([A-H])", text)
            if match:
                self.options[match.group(1)] = j
        self.rows = [(r, row) for r, row in enumerate(ws.iter_rows(min_row=2, values_only=True), start=2)
                     if any(_text(v) for v in row)]

    def value(self, row: tuple, fld: str) -> Any:
        j = self.col.get(fld)
        return row[j] if j is not None and j < len(row) else None

    def letter(self, fld: str) -> str:
        j = self.col.get(fld, self.options.get(fld))
        return get_column_letter(j + 1) if j is not None else ""

    def report(self, row: int, fld: str, zh: str, en: str) -> None:
        self.problems.append(Problem(self.name, row, self.letter(fld), zh, en))


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def import_bank(data: bytes, occupation: str, level: int, *, blueprint: Blueprint | None = None,
                blueprint_version: int = 1, default_status: str = "draft") -> BankImport:
    """Items (and the blueprint sheet, when present) from workbook bytes, or BankImportRejected."""
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several unrelated types for a non-workbook
        raise BankImportRejected([Problem("", 0, "", "无法读取 Excel 文件", f"not a readable .xlsx file ({exc})")])
    problems: list[Problem] = []
    if BLUEPRINT_SHEET in wb.sheetnames:
        blueprint = _read_blueprint(_Sheet(wb[BLUEPRINT_SHEET], BLUEPRINT_COLUMNS, problems),
                                    occupation, level, blueprint_version) or blueprint
    item_ws = wb[ITEM_SHEET] if ITEM_SHEET in wb.sheetnames else wb.worksheets[0]
    items, importance = _read_items(_Sheet(item_ws, ITEM_COLUMNS, problems), occupation, level, blueprint,
                                    default_status)
    if problems:
        raise BankImportRejected(problems)
    return BankImport(tuple(items), blueprint, importance)


# ---- items ---------------------------------------------------------------------------------------------------

def _read_items(sheet: _Sheet, occupation, level, blueprint, default_status) -> tuple[list[Item], dict]:
    missing = [ITEM_COLUMNS[f][0] for f in REQUIRED_ITEM_COLUMNS if f not in sheet.col]
    for name in missing:
        sheet.report(1, "", f"缺少列「{name}」", f"missing column '{name}'")
    if missing:
        return [], {}
    points = blueprint.point_index() if blueprint else None
    items, importance, seen = [], {}, {}
    for r, row in sheet.rows:
        before = len(sheet.problems)
        fields = _item_fields(sheet, r, row, occupation, level, default_status)
        _check_point(sheet, r, row, fields, points, importance)
        if len(sheet.problems) > before:
            continue
        item = _build_item(sheet, r, fields)
        if item is None:
            continue
        if item.ref in seen:
            sheet.report(r, "id", f"题目编号与第{seen[item.ref]}行重复", f"same item id as row {seen[item.ref]}")
            continue
        seen[item.ref] = r
        items.append(item)
    return items, importance


def _item_fields(sheet: _Sheet, r: int, row: tuple, occupation, level, default_status) -> dict:
    point_code = _text(sheet.value(row, "point_code"))
    stem = _text(sheet.value(row, "stem"))
    if not point_code:
        sheet.report(r, "point_code", "鉴定点代码为空", "assessment point code is empty")
    if not stem:
        sheet.report(r, "stem", "题干为空", "stem is empty")
    item_type = TYPE_WORDS.get(_text(sheet.value(row, "type")))
    if item_type is None:
        sheet.report(r, "type", f"题型「{_text(sheet.value(row, 'type'))}」无法识别，应为 单选/多选/判断/填空",
                     "unknown item type; use 单选/多选/判断/填空")
    options = _options(sheet, r, row, item_type)
    fields = {
        "occupation": occupation, "level": level, "point_code": point_code, "type": item_type, "stem": stem,
        "options": options, "key": _key(sheet, r, row, item_type, options),
        "difficulty": _number(sheet, r, row, "difficulty", "难度", "difficulty", low=0.0, high=1.0, required=True),
        "tolerance": _number(sheet, r, row, "tolerance", "容差", "tolerance", low=0.0) or 0.0,
        "discrimination": _number(sheet, r, row, "discrimination", "区分度", "discrimination", low=-1.0, high=1.0),
        "enemy_group": _text(sheet.value(row, "enemy_group")) or None,
        "source": _word(sheet, r, row, "source", SOURCE_WORDS, "national", "来源", "source"),
        "status": _word(sheet, r, row, "status", STATUS_WORDS, default_status, "状态", "status"),
        "exposure": int(_number(sheet, r, row, "exposure", "曝光次数", "exposure", low=0.0, whole=True) or 0),
        "last_used": _date(sheet, r, row),
        "media": tuple(m.strip() for m in re.split(r"[;；]", _text(sheet.value(row, "media"))) if m.strip()),
        "version": int(_number(sheet, r, row, "version", "版本", "version", low=1.0, whole=True) or 1),
        "importance": _text(sheet.value(row, "importance")).upper(),
    }
    fields["id"] = _text(sheet.value(row, "id")) or _content_id(fields)
    return fields


def _content_id(fields: dict) -> str:
    """A stable id for rows without one: the same item text always maps to the same id."""
    basis = "|".join([fields["occupation"], str(fields["level"]), fields["point_code"], fields["stem"]])
    return "Q-" + uuid.uuid5(ID_NAMESPACE, basis).hex[:16]


def _options(sheet: _Sheet, r: int, row: tuple, item_type: str | None) -> tuple[str, ...]:
    texts = [(letter, _text(row[j]) if j < len(row) else "") for letter, j in sorted(sheet.options.items())]
    filled = [letter for letter, text in texts if text]
    if item_type in ("true_false", "numeric"):
        if filled:
            sheet.report(r, filled[0], f"{'判断题' if item_type == 'true_false' else '填空题'}不应有选项",
                         "true/false and numeric items have no options")
        return ()
    if item_type is None:
        return ()
    letters = LETTERS[:len(filled)]
    if "".join(filled) != letters:
        gap = next(letter for letter in LETTERS if letter not in filled)
        sheet.report(r, gap, f"选项{gap}为空，选项必须从 A 起连续填写",
                     f"option {gap} is empty; fill options from A on")
    elif len(filled) < 2:
        sheet.report(r, "A", "选择题至少需要两个选项", "a choice item needs at least two options")
    return tuple(text for _, text in texts if text)


def _key(sheet: _Sheet, r: int, row: tuple, item_type: str | None, options: tuple[str, ...]):
    raw = sheet.value(row, "key")
    text = _text(raw).upper().translate(str.maketrans("ＡＢＣＤＥＦＧＨ", "ABCDEFGH"))
    if item_type is None:
        return text
    if not text and not isinstance(raw, bool):
        sheet.report(r, "key", "答案为空", "key is empty")
        return None
    if item_type == "true_false":
        return _true_false_key(sheet, r, raw, text)
    if item_type == "numeric":
        value = _as_float(raw)
        if value is None:
            sheet.report(r, "key", f"填空题答案「{text}」不是数值", f"numeric key '{text}' is not a number")
        return value
    return _choice_key(sheet, r, item_type, text, LETTERS[:len(options)])


def _true_false_key(sheet: _Sheet, r: int, raw, text: str):
    if raw is True or text in TRUE_WORDS:
        return "T"
    if raw is False or text in FALSE_WORDS:
        return "F"
    sheet.report(r, "key", f"判断题答案「{text}」应为 对/错（√/×）", f"true/false key '{text}' must be 对/错 (T/F)")
    return None


def _choice_key(sheet: _Sheet, r: int, item_type: str, text: str, letters: str):
    chosen = re.sub(r"[\s,，、;；]", "", text)
    bad = [c for c in chosen if c not in letters]
    if bad or not chosen:
        sheet.report(r, "key", f"答案「{text}」不在选项 {letters or '（无）'} 之中",
                     f"key '{text}' is not among the options {letters or '(none)'}")
        return None
    if len(set(chosen)) != len(chosen):
        sheet.report(r, "key", f"答案「{text}」有重复字母", f"key '{text}' repeats a letter")
        return None
    if item_type == "single" and len(chosen) != 1:
        sheet.report(r, "key", f"单选题答案「{text}」应为一个字母", f"single-choice key '{text}' must be one letter")
        return None
    if item_type == "multiple" and len(chosen) < 2:
        sheet.report(r, "key", f"多选题答案「{text}」至少两个字母", f"multiple-choice key '{text}' needs two letters")
        return None
    return "".join(sorted(chosen))


def _as_float(raw) -> float | None:
    if isinstance(raw, bool):
        return None
    try:
        return float(raw) if isinstance(raw, (int, float)) else float(_text(raw))
    except ValueError:
        return None


def _number(sheet, r, row, fld, zh, en, *, low=None, high=None, required=False, whole=False) -> float | None:
    raw = sheet.value(row, fld)
    if _text(raw) == "":
        if required:
            sheet.report(r, fld, f"{zh}为空", f"{en} is empty")
        return None
    value = _as_float(raw)
    if value is None or (whole and not value.is_integer()):
        sheet.report(r, fld, f"{zh}「{_text(raw)}」不是{'整数' if whole else '数值'}",
                     f"{en} '{_text(raw)}' is not a {'whole ' if whole else ''}number")
        return None
    if (low is not None and value < low) or (high is not None and value > high):
        span = f"{low:g}～{high:g}" if high is not None else f"≥ {low:g}"
        sheet.report(r, fld, f"{zh} {value:g} 超出范围 {span}", f"{en} {value:g} outside {span}")
        return None
    return value


def _word(sheet, r, row, fld, words: dict, default: str, zh: str, en: str) -> str:
    text = _text(sheet.value(row, fld))
    if not text:
        return default
    if text not in words:
        sheet.report(r, fld, f"{zh}「{text}」无法识别", f"unknown {en} '{text}'")
        return default
    return words[text]


def _date(sheet: _Sheet, r: int, row: tuple) -> str | None:
    raw = sheet.value(row, "last_used")
    if hasattr(raw, "date"):
        return raw.date().isoformat()
    text = _text(raw)
    if text and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        sheet.report(r, "last_used", f"最近使用日期「{text}」应为 YYYY-MM-DD", f"last used '{text}' is not YYYY-MM-DD")
        return None
    return text or None


def _check_point(sheet: _Sheet, r: int, row: tuple, fields: dict, points, importance: dict) -> None:
    code, stated = fields["point_code"], fields["importance"]
    if stated and stated not in IMPORTANCES:
        sheet.report(r, "importance", f"重要程度「{stated}」应为 X/Y/Z", f"importance '{stated}' must be X, Y or Z")
        return
    if points is not None and code and code not in points:
        sheet.report(r, "point_code", f"鉴定点「{code}」不在细目表中",
                     f"assessment point '{code}' is not in the blueprint")
        return
    expected = points[code][0].importance if points is not None and code else importance.get(code)
    if stated and expected and stated != expected:
        sheet.report(r, "importance", f"重要程度 {stated} 与鉴定点 {code} 的 {expected} 不一致",
                     f"importance {stated} differs from point {code}'s {expected}")
    elif stated and code:
        importance.setdefault(code, stated)


def _build_item(sheet: _Sheet, r: int, fields: dict) -> Item | None:
    data = {k: v for k, v in fields.items() if k != "importance"}
    try:
        return Item(**data)
    except ValueError as exc:   # a rule the per-cell checks did not cover
        sheet.report(r, "", f"题目不合规：{exc}", f"invalid item: {exc}")
        return None


# ---- blueprint -----------------------------------------------------------------------------------------------

@dataclass
class _Node:
    row: int
    level: int
    code: str
    name: str
    weight: float
    children: list = field(default_factory=list)
    points: list = field(default_factory=list)


def _read_blueprint(sheet: _Sheet, occupation, level, version) -> Blueprint | None:
    missing = [BLUEPRINT_COLUMNS[f][0] for f in ("level", "code", "name") if f not in sheet.col]
    for name in missing:
        sheet.report(1, "", f"缺少列「{name}」", f"missing column '{name}'")
    if missing:
        return None
    before = len(sheet.problems)
    roots: list[_Node] = []
    stack: list[_Node] = []
    seen_points: dict[str, int] = {}
    for r, row in sheet.rows:
        depth_text = _text(sheet.value(row, "level"))
        if depth_text in POINT_LEVEL_WORDS:
            _blueprint_point(sheet, r, row, stack, seen_points)
        else:
            _blueprint_range(sheet, r, row, depth_text, stack, roots)
    _check_weights(sheet, roots, 100.0, None)
    if len(sheet.problems) > before:
        return None
    return Blueprint(occupation, level, version, tuple(_to_range(n) for n in roots))


def _blueprint_range(sheet, r, row, depth_text, stack: list[_Node], roots: list[_Node]) -> None:
    if not depth_text.isdigit() or int(depth_text) < 1:
        sheet.report(r, "level", f"层级「{depth_text}」应为 1、2、3… 或「点」", "level must be 1, 2, 3… or 点")
        return
    depth = int(depth_text)
    if depth > len(stack) + 1:
        sheet.report(r, "level", f"层级 {depth} 缺少上一级鉴定范围", f"level {depth} has no parent range")
        return
    code = _text(sheet.value(row, "code"))
    if not code:
        sheet.report(r, "code", "代码为空", "code is empty")
    weight = _number(sheet, r, row, "weight", "比重", "weight", low=0.0, high=100.0, required=True)
    del stack[depth - 1:]
    node = _Node(r, depth, code, _text(sheet.value(row, "name")), weight or 0.0)
    if stack and stack[-1].points:
        sheet.report(r, "level", "鉴定范围不能与鉴定点并列", "a range cannot sit beside assessment points")
    (stack[-1].children if stack else roots).append(node)
    stack.append(node)


def _blueprint_point(sheet, r, row, stack: list[_Node], seen: dict[str, int]) -> None:
    if not stack:
        sheet.report(r, "level", "鉴定点之前没有鉴定范围", "an assessment point before any range")
        return
    parent = stack[-1]
    if parent.children:
        sheet.report(r, "level", "鉴定点不能与下级鉴定范围并列", "a point cannot sit beside child ranges")
    local = _text(sheet.value(row, "code"))
    importance = _text(sheet.value(row, "importance")).upper()
    if not local:
        sheet.report(r, "code", "鉴定点代码为空", "point code is empty")
    if importance not in IMPORTANCES:
        sheet.report(r, "importance", f"重要程度「{importance}」应为 X/Y/Z", "importance must be X, Y or Z")
    code = local if "-" in local else "-".join([n.code for n in stack] + [local])
    if code in seen:
        sheet.report(r, "code", f"鉴定点 {code} 与第{seen[code]}行重复", f"point {code} repeats row {seen[code]}")
    seen[code] = r
    parent.points.append(Point(code, _text(sheet.value(row, "name")), importance if importance in IMPORTANCES else "Y"))


def _check_weights(sheet: _Sheet, nodes: list[_Node], expected: float, parent: _Node | None) -> None:
    if not nodes:
        if parent is not None and not parent.points:
            sheet.report(parent.row, "code", f"鉴定范围 {parent.code} 下没有鉴定点",
                         f"range {parent.code} has no points")
        return
    total = sum(n.weight for n in nodes)
    if abs(total - expected) > WEIGHT_TOLERANCE:
        row = parent.row if parent else nodes[0].row
        whose = f"{parent.code} 的下级" if parent else "一级鉴定范围"
        sheet.report(row, "weight", f"{whose}比重合计 {total:g}%，应为 {expected:g}%",
                     f"weights {'under ' + parent.code if parent else 'of level 1'} add up to {total:g}%, "
                     f"not {expected:g}%")
    for node in nodes:
        _check_weights(sheet, node.children, node.weight, node)


def _to_range(node: _Node) -> Range:
    return Range(node.code, node.name, node.weight, tuple(_to_range(c) for c in node.children), tuple(node.points))


# ---- export --------------------------------------------------------------------------------------------------

def export_bank(items, blueprint: Blueprint | None = None) -> bytes:
    """The items (and the blueprint) in the import layout; `import_bank` reads it back to equal items.
    Numbers keep Excel's precision (15 significant digits)."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(ITEM_SHEET)
    items = list(items)
    option_count = max([len(i.options) for i in items] + [4])
    points = blueprint.point_index() if blueprint else {}
    head = ["题目编号", "版本", "鉴定点代码", "题型", "题干", *[f"选项{LETTERS[j]}" for j in range(option_count)],
            "答案", "容差", "难度", "区分度", "重要程度", "互斥组", "来源", "状态", "曝光次数", "最近使用", "媒体"]
    ws.append(head)
    for item in items:
        options = list(item.options) + [None] * (option_count - len(item.options))
        importance = points[item.point_code][0].importance if item.point_code in points else None
        ws.append(_cells(ws, [item.id, item.version, item.point_code, TYPE_EXPORT[item.type], item.stem, *options,
                              _export_key(item), item.tolerance or None, item.difficulty, item.discrimination,
                              importance, item.enemy_group, SOURCE_EXPORT[item.source], STATUS_EXPORT[item.status],
                              item.exposure, item.last_used, ";".join(item.media) or None]))
    if blueprint is not None:
        _export_blueprint(wb.create_sheet(BLUEPRINT_SHEET), blueprint)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _cells(ws, values: list) -> list:
    """Text starting with "=" stays text: openpyxl would otherwise write it as a formula (formula injection)."""
    row = []
    for value in values:
        if isinstance(value, str) and value.startswith("="):
            value = WriteOnlyCell(ws, value)
            value.data_type = "s"
        row.append(value)
    return row


def _export_key(item: Item):
    if item.type == "true_false":
        return "对" if item.key == "T" else "错"
    return item.key


def _export_blueprint(ws, blueprint: Blueprint) -> None:
    ws.append(["层级", "代码", "名称", "比重", "重要程度"])

    def walk(node: Range, depth: int, prefix: str) -> None:
        ws.append(_cells(ws, [depth, node.code, node.name, node.weight_pct, None]))
        path = f"{prefix}{node.code}-"
        for child in node.children:
            walk(child, depth + 1, path)
        for point in node.points:
            local = point.code[len(path):] if point.code.startswith(path) else point.code
            ws.append(_cells(ws, ["点", local, point.name, None, point.importance]))

    for top in blueprint.ranges:
        walk(top, 1, "")
