"""Seeded generator of realistic demo banks: 数控车工 中级 (≥ 400 鉴定点, ≥ 5,000 items) and a smaller 数控铣工 中级.

The blueprint follows the national 细目表 layout (基本要求 / 相关知识, 鉴定比重 %, X/Y/Z points). Stems and
options come from templates filled with each point's subject, so they read plausibly but are not vetted
questions. Difficulty priors follow a Beta(6.5, 3.5) (mean 0.65, as 考评员 guidance targets).
"""
from __future__ import annotations

import random
from dataclasses import dataclass

from assessment.bank import Blueprint, Item, Point, Range

LEVEL_INTERMEDIATE = 4

# (code, name, weight %, [(code, name, weight %, subjects)]) — subjects seed the 鉴定点 names.
_COMMON_BASICS = [
    ("A-A", "职业道德", 5, [
        ("A-A-A", "职业道德基本知识", 3, ["职业道德的概念", "职业道德的作用", "职业守则", "爱岗敬业", "诚实守信",
                                          "办事公道", "团结互助", "遵纪守法"]),
        ("A-A-B", "职业守则与法规", 2, ["劳动法", "安全生产法", "劳动合同", "质量意识", "环境保护法规"]),
    ]),
    ("A-B", "基础知识", 20, [
        ("A-B-A", "机械制图", 5, ["三视图投影规律", "剖视图", "断面图", "螺纹的规定画法", "零件图的尺寸标注",
                                  "表面粗糙度代号", "局部放大图", "装配图的读图", "形位公差代号", "标题栏"]),
        ("A-B-B", "公差配合与技术测量", 4, ["基本偏差", "标准公差等级", "间隙配合", "过盈配合", "过渡配合",
                                            "基孔制", "形状公差", "位置公差", "游标卡尺的读数", "千分尺的读数"]),
        ("A-B-C", "金属材料与热处理", 3, ["碳素钢", "合金钢", "铸铁", "铝合金", "退火", "正火", "淬火",
                                          "回火", "调质", "硬度测试"]),
        ("A-B-D", "金属切削与刀具", 4, ["刀具材料", "硬质合金", "前角", "后角", "主偏角", "切削用量三要素",
                                        "切削力", "积屑瘤", "刀具磨损", "切削液"]),
        ("A-B-E", "数控原理", 3, ["数控系统的组成", "插补原理", "伺服系统", "开环控制", "闭环控制",
                                  "脉冲当量", "位置检测装置", "机床坐标系"]),
        ("A-B-F", "安全文明生产与质量管理", 1, ["安全操作规程", "劳动保护用品", "文明生产", "全面质量管理",
                                                 "5S 管理"]),
    ]),
]

LATHE_BLUEPRINT_SPEC = _COMMON_BASICS + [
    ("B-A", "加工准备", 15, [
        ("B-A-A", "读图与工艺分析", 4, ["轴类零件图", "套类零件图", "工艺基准", "加工顺序的安排", "工序的划分",
                                        "加工余量"]),
        ("B-A-B", "零件定位与装夹", 4, ["三爪自定心卡盘", "四爪单动卡盘", "顶尖装夹", "一夹一顶", "软爪",
                                        "心轴装夹", "中心架", "跟刀架"]),
        ("B-A-C", "刀具准备", 4, ["外圆车刀", "切槽刀", "螺纹车刀", "内孔车刀", "可转位刀片", "刀尖圆弧半径",
                                  "刀具安装高度"]),
        ("B-A-D", "切削用量的选择", 3, ["背吃刀量", "进给量", "切削速度", "恒线速度 G96", "最高转速限制 G50"]),
    ]),
    ("B-B", "数控编程", 22, [
        ("B-B-A", "基本指令编程", 8, ["G00 快速定位", "G01 直线插补", "G02 顺时针圆弧插补", "G03 逆时针圆弧插补",
                                      "G04 暂停", "G98 每分钟进给", "G99 每转进给", "绝对与增量编程",
                                      "直径编程", "M03 主轴正转", "M05 主轴停止", "M30 程序结束", "T 功能"]),
        ("B-B-B", "复合循环编程", 8, ["G71 外圆粗车复合循环", "G70 精车循环", "G72 端面粗车复合循环",
                                      "G73 仿形粗车复合循环", "G76 螺纹复合循环", "G92 螺纹切削单一循环",
                                      "G90 外圆切削单一循环", "G94 端面切削单一循环", "G75 切槽循环",
                                      "G74 端面钻孔循环"]),
        ("B-B-C", "刀尖圆弧半径补偿", 3, ["G41 左补偿", "G42 右补偿", "G40 取消补偿", "假想刀尖方位号",
                                          "补偿的建立与撤销"]),
        ("B-B-D", "子程序与宏程序", 3, ["M98 子程序调用", "M99 子程序返回", "宏变量", "条件转移 IF GOTO",
                                        "WHILE 循环", "椭圆宏程序"]),
    ]),
    ("B-C", "数控车床操作", 15, [
        ("B-C-A", "操作面板与方式", 4, ["回参考点", "手动方式", "手轮方式", "MDI 方式", "自动方式",
                                        "单段运行", "急停按钮"]),
        ("B-C-B", "程序输入与编辑", 4, ["程序的新建", "程序的检索", "程序段的插入与删除", "程序的校验",
                                        "空运行", "图形模拟"]),
        ("B-C-C", "对刀与刀具补偿", 7, ["试切法对刀", "刀具几何补偿", "刀具磨损补偿", "工件坐标系 G54",
                                        "G50 设定工件坐标系", "对刀仪", "刀补值的修调"]),
    ]),
    ("B-D", "零件加工与测量", 15, [
        ("B-D-A", "轮廓加工", 4, ["外圆加工", "端面加工", "锥面加工", "圆弧面加工", "精车余量"]),
        ("B-D-B", "螺纹加工", 4, ["普通螺纹的尺寸计算", "螺纹牙型高度", "螺纹切削的分层", "多线螺纹",
                                  "螺纹的检测"]),
        ("B-D-C", "槽与孔加工", 3, ["外沟槽", "内孔车削", "钻孔", "铰孔", "切断"]),
        ("B-D-D", "零件精度检验", 4, ["外径千分尺", "内径百分表", "螺纹环规", "角度尺", "表面粗糙度检测",
                                      "尺寸超差原因"]),
    ]),
    ("B-E", "数控车床维护与故障诊断", 8, [
        ("B-E-A", "日常维护与保养", 4, ["润滑系统", "冷却系统", "液压卡盘", "导轨的保养", "电气柜的维护"]),
        ("B-E-B", "常见故障与报警", 4, ["超程报警", "程序格式报警", "主轴故障", "刀架故障", "精度检验"]),
    ]),
]

MILL_BLUEPRINT_SPEC = _COMMON_BASICS + [
    ("B-A", "加工准备", 20, [
        ("B-A-A", "工艺与装夹", 10, ["平口钳装夹", "压板装夹", "工件找正", "铣削方式 顺铣与逆铣",
                                     "加工顺序的安排"]),
        ("B-A-B", "铣刀与切削用量", 10, ["立铣刀", "面铣刀", "键槽铣刀", "钻头与丝锥", "切削用量的选择"]),
    ]),
    ("B-B", "数控编程", 30, [
        ("B-B-A", "基本指令与补偿", 15, ["G17 平面选择", "G02/G03 圆弧插补", "G41/G42 刀具半径补偿",
                                         "G43 刀具长度补偿", "G54 工件坐标系", "G68 坐标旋转"]),
        ("B-B-B", "孔加工固定循环", 15, ["G81 钻孔循环", "G83 深孔钻循环", "G84 攻丝循环", "G98/G99 返回平面",
                                         "G80 取消循环"]),
    ]),
    ("B-C", "操作与测量", 25, [
        ("B-C-A", "机床操作与对刀", 15, ["寻边器对刀", "Z 向对刀", "刀库与换刀", "MDI 方式", "回参考点"]),
        ("B-C-B", "检测与维护", 10, ["内径测量", "深度测量", "位置度检测", "导轨润滑", "常见报警"]),
    ]),
]

_ASPECTS = ["的概念", "的作用", "的特点", "的应用", "的选用", "的计算", "的注意事项", "的常见错误"]


@dataclass(frozen=True)
class DemoBank:
    blueprint: Blueprint
    items: list[Item]


def _points(leaf_code: str, subjects: list[str], count: int, rng: random.Random) -> list[Point]:
    """`count` 鉴定点 named from the subjects (subject + aspect once the plain subjects run out)."""
    names = list(subjects)
    for aspect in _ASPECTS:
        names.extend(s + aspect for s in subjects)
    points = []
    for k in range(count):
        importance = rng.choices("XYZ", weights=(60, 30, 10))[0]
        points.append(Point(code=f"{leaf_code}-{k + 1:03d}", name=names[k % len(names)], importance=importance))
    return points


def build_blueprint(occupation: str, spec: list, points_per_pct: float, rng: random.Random) -> Blueprint:
    ranges = []
    for code, name, weight, leaves in spec:
        children = [Range(leaf_code, leaf_name, leaf_weight,
                          points=_points(leaf_code, subjects, max(2, round(points_per_pct * leaf_weight)), rng))
                    for leaf_code, leaf_name, leaf_weight, subjects in leaves]
        ranges.append(Range(code, name, weight, children=children))
    top = [Range("A", "基本要求", sum(r.weight_pct for r in ranges if r.code.startswith("A")),
                 children=[r for r in ranges if r.code.startswith("A")]),
           Range("B", "相关知识", sum(r.weight_pct for r in ranges if r.code.startswith("B")),
                 children=[r for r in ranges if r.code.startswith("B")])]
    return Blueprint(occupation=occupation, level=LEVEL_INTERMEDIATE, version=1, ranges=top)


_SINGLE_STEMS = ["关于{s}，下列说法正确的是（  ）。", "{s}主要用于（  ）。", "下列关于{s}的叙述中，错误的是（  ）。",
                 "在数控车削中，{s}应（  ）。", "{s}的首要要求是（  ）。"]
_RIGHT = ["符合国家标准的规定", "应根据加工要求合理选择", "须在确认安全后进行", "与工件材料和精度要求有关",
          "应先粗加工后精加工", "以保证加工精度为前提"]
_WRONG = ["可以任意确定，不受限制", "只与操作者的习惯有关", "在任何情况下都不必考虑", "只适用于手工操作",
          "与加工精度无关", "只能在机床断电后进行", "必须取最大值", "可以省略不做"]
# FANUC 0i lathe codes and what they do: real facts for the programming points' items.
FANUC_LATHE_CODES = {
    "G00": "快速点定位", "G01": "直线插补", "G02": "顺时针圆弧插补", "G03": "逆时针圆弧插补", "G04": "暂停",
    "G98": "每分钟进给", "G99": "每转进给", "G70": "精车循环", "G71": "外径/内径粗车复合循环",
    "G72": "端面粗车复合循环", "G73": "固定形状（仿形）粗车复合循环", "G74": "端面深孔钻削循环",
    "G75": "外径/内径切槽循环", "G76": "螺纹切削复合循环", "G90": "外径/内径切削单一循环",
    "G92": "螺纹切削单一循环", "G94": "端面切削单一循环", "G40": "取消刀尖圆弧半径补偿",
    "G41": "刀尖圆弧半径左补偿", "G42": "刀尖圆弧半径右补偿", "M03": "主轴正转", "M05": "主轴停止",
    "M30": "程序结束并返回程序开头", "M98": "调用子程序", "M99": "子程序结束并返回",
}
_TF_TRUE = "{s}应根据加工要求合理确定。"
_TF_FALSE = "{s}与加工精度无关，可以任意确定。"


def _choice_options(rng: random.Random) -> tuple[list[str], str]:
    right = rng.choice(_RIGHT)
    options = rng.sample(_WRONG, 3)
    position = rng.randrange(4)
    options.insert(position, right)
    return options, "ABCD"[position]


def _difficulty(rng: random.Random) -> float:
    return round(min(0.97, max(0.15, rng.betavariate(6.5, 3.5))), 3)


def build_items(blueprint: Blueprint, singles: tuple[int, int], tfs: tuple[int, int], rng: random.Random,
                prefix: str) -> list[Item]:
    """Per point: a random number of single-choice and true/false items in the given ranges (inclusive)."""
    items: list[Item] = []
    for leaf in blueprint.leaves():
        for point in leaf.points:
            for item_type, (low, high) in (("single", singles), ("true_false", tfs)):
                for _ in range(rng.randint(low, high)):
                    items.append(_item(f"{prefix}{len(items) + 1:05d}", blueprint, point, item_type, rng))
        _add_enemies(items, leaf.code, rng)
    return items


def _code_fact(item_type: str, code: str, rng: random.Random) -> tuple[str, list[str], str]:
    """A factual item about one FANUC code: which code does X (single choice) or "code does X" (true/false)."""
    others = rng.sample(sorted(c for c in FANUC_LATHE_CODES if c != code and c[0] == code[0]), 3)
    if item_type == "single":
        position = rng.randrange(4)
        if rng.random() < 0.5:
            options = others[:]
            options.insert(position, code)
            return f"FANUC 0i 数控车床系统中，{FANUC_LATHE_CODES[code]}的指令是（  ）。", options, "ABCD"[position]
        options = [FANUC_LATHE_CODES[c] for c in others]
        options.insert(position, FANUC_LATHE_CODES[code])
        return f"FANUC 0i 数控车床系统中，{code} 指令的功能是（  ）。", options, "ABCD"[position]
    truth = rng.random() < 0.5
    meaning = FANUC_LATHE_CODES[code if truth else others[0]]
    return f"FANUC 0i 数控车床系统中，{code} 是{meaning}指令。", [], "T" if truth else "F"


def _templated(item_type: str, subject: str, rng: random.Random) -> tuple[str, list[str], str]:
    if item_type == "single":
        options, key = _choice_options(rng)
        return rng.choice(_SINGLE_STEMS).format(s=subject), options, key
    truth = rng.random() < 0.5
    return (_TF_TRUE if truth else _TF_FALSE).format(s=subject), [], "T" if truth else "F"


def _item(item_id: str, blueprint: Blueprint, point: Point, item_type: str, rng: random.Random) -> Item:
    code = point.name.split(" ")[0]
    if code in FANUC_LATHE_CODES and blueprint.occupation == "数控车工" and rng.random() < 0.3:
        stem, options, key = _code_fact(item_type, code, rng)
    else:
        stem, options, key = _templated(item_type, point.name, rng)
    status = rng.choices(("active", "draft", "reviewed", "retired"), weights=(94, 2, 2, 2))[0]
    used = rng.random() < 0.7
    return Item(id=item_id, version=1, occupation=blueprint.occupation, level=blueprint.level,
                point_code=point.code, type=item_type, stem=stem, options=options, key=key,
                difficulty=_difficulty(rng), discrimination=round(rng.uniform(0.1, 0.6), 3),
                source="national" if rng.random() < 0.8 else "provincial", exposure=rng.randint(0, 40) if used else 0,
                last_used=f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}" if used else None,
                status=status)


def _add_enemies(items: list[Item], leaf_code: str, rng: random.Random) -> None:
    """About 3 % of a leaf's items get an enemy partner on another point of the same leaf (items that cue
    each other)."""
    indices = [k for k, i in enumerate(items) if i.point_code.startswith(leaf_code + "-") and i.enemy_group is None]
    for _ in range(len(indices) * 3 // 200):
        a, b = rng.sample(indices, 2)
        if items[a].point_code == items[b].point_code or items[a].enemy_group or items[b].enemy_group:
            continue
        group = f"E-{items[a].id}"
        items[a] = _with_enemy(items[a], group)
        items[b] = _with_enemy(items[b], group)


def _with_enemy(item: Item, group: str) -> Item:
    from dataclasses import replace
    return replace(item, enemy_group=group)


def lathe_bank(seed: int = 2026) -> DemoBank:
    """数控车工 中级: 440 鉴定点 (4.4 per % of weight), about 5,500 items (8–14 single, 1–5 true/false per point)."""
    rng = random.Random(seed)
    blueprint = build_blueprint("数控车工", LATHE_BLUEPRINT_SPEC, 4.4, rng)
    return DemoBank(blueprint, build_items(blueprint, (8, 14), (1, 5), rng, "L"))


def mill_bank(seed: int = 2027) -> DemoBank:
    """数控铣工 中级: a smaller bank, about 1.3 per % of weight (≈ 130 鉴定点, ≈ 1,000 items)."""
    rng = random.Random(seed)
    blueprint = build_blueprint("数控铣工", MILL_BLUEPRINT_SPEC, 1.3, rng)
    return DemoBank(blueprint, build_items(blueprint, (5, 8), (1, 3), rng, "M"))
