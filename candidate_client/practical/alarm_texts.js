// Chinese texts for what the control says: the alarm messages by number (the server sends the English 0i-F
// text, simulators/core/alarms.py) and the server's reasons for refusing a key. Our translations, worded as a
// Chinese FANUC screen would put them; not yet checked line by line against the Chinese maintenance manual.
// English keeps the server's own words.

const ALARMS_ZH = {
  PS0003: "数字位数太多", PS0004: "程序字分隔位置不正确", PS0005: "地址后面没有数据", PS0006: "负号使用不正确",
  PS0007: "小数点使用不正确", PS0009: "NC地址不正确", PS0010: "不正确的G代码", PS0011: "切削进给速度为零（F指令）",
  PS0015: "同时控制轴数太多", PS0020: "圆弧半径超差", PS0021: "平面选择不正确", PS0022: "没有R或I、J、K指令",
  PS0023: "半径指令不正确", PS0028: "平面选择不正确", PS0029: "偏置值不正确", PS0030: "偏置号不正确",
  PS0033: "刀具补偿中没有交点", PS0034: "刀补建立/取消段不能用圆弧指令", PS0037: "G41/G42中不能改变平面",
  PS0041: "刀具补偿中发生干涉", PS0044: "固定循环中不能指令G27～G30", PS0045: "没有地址Q（G73/G83）",
  PS0046: "返回参考点指令不正确", PS0061: "复合循环程序段中没有P或Q", PS0062: "粗车循环的切削量不正确",
  PS0063: "找不到P指定的顺序号程序段", PS0064: "精加工形状不是单调变化（第一轴）",
  PS0065: "形状程序的第一段不是G00/G01", PS0066: "复合循环程序段中有不可用的指令",
  PS0067: "复合循环不在程序存储器中", PS0069: "形状程序的最后移动段以倒角或拐角R结束",
  PS0070: "程序存储器空间不足", PS0071: "找不到数据", PS0072: "程序个数太多", PS0073: "程序号已被使用",
  PS0074: "程序号不正确", PS0076: "找不到程序", PS0077: "子程序、宏程序嵌套太多", PS0078: "找不到顺序号",
  PS0085: "整数溢出", PS0092: "回零检查（G27）错误", PS0111: "运算数据溢出", PS0112: "除数为零",
  PS0114: "表达式格式不正确", PS0115: "变量号超出范围", PS0116: "变量写保护", PS0118: "括号嵌套太多",
  PS0119: "自变量值超出范围", PS0122: "宏程序模态调用重复", PS0123: "GOTO/WHILE/DO方式不正确",
  PS0124: "缺少END语句", PS0125: "宏程序语句格式错误", PS0126: "循环号不正确", PS0128: "顺序号超出范围",
  PS0200: "S代码指令不正确", PS0224: "回零未结束", EX1001: "T代码不正确（无此刀位）",
  EX1002: "本机床不能使用该M代码", EX1003: "T代码不正确（刀库中无此刀）", OT0500: "+向超程（软限位1）",
  OT0501: "-向超程（软限位1）",
};

const MODE_ZH = { EDIT: "编辑", MEM: "自动", MDI: "MDI", JOG: "手动", INC: "增量", HANDLE: "手轮", REF: "回零" };
const mode = (m) => MODE_ZH[m] || m;

// [the server's wording, the Chinese]; a function gets the regular expression's groups.
const REASONS_ZH = [
  [/^emergency stop$/, "急停中"],
  [/^the control is off$/, "系统未启动：请按系统启动"],
  [/^the control is already (on|off)$/, (s) => (s === "on" ? "系统已启动" : "系统已停止")],
  [/^the emergency stop is already (pressed|released)$/, (s) => (s === "pressed" ? "急停已按下" : "急停已松开")],
  [/^alarm: reset first$/, "有报警：请先复位"],
  [/^automatic operation is not finished: reset first$/, "自动运行未结束：请先复位"],
  [/^the program is in operation \(reset first\)$/, "程序运行中（请先复位）"],
  [/^already running$/, "已在运行中"],
  [/^the machine waits \((.*)\): reset$/, (why) => `机床等待中（${why}）：请复位`],
  [/^feed hold works during automatic operation$/, "进给保持只在自动运行中有效"],
  [/^cycle start works in MEM or MDI, not (\w+)$/, (m) => `循环启动只在自动或MDI方式有效，当前为${mode(m)}方式`],
  [/^ignored in (\w+) mode \(needs (\w+)\)$/, (m, need) => `${mode(m)}方式下无效（需要${mode(need)}方式）`],
  [/^already in (\w+)$/, (m) => `已是${mode(m)}方式`],
  [/^program editing needs EDIT mode, not (\w+)$/, (m) => `程序编辑需要编辑方式，当前为${mode(m)}方式`],
  [/^program search needs EDIT or MEM mode, not (\w+)$/, (m) => `程序检索需要编辑或自动方式，当前为${mode(m)}方式`],
  [/^the MDI program is keyed in MDI mode, not (\w+)$/, (m) => `MDI程序只能在MDI方式输入，当前为${mode(m)}方式`],
  [/^spindle keys work in manual modes, not (\w+)$/, (m) => `主轴按键只在手动类方式有效，当前为${mode(m)}方式`],
  [/^the (\w+) operation in progress continues in \1 mode$/, (m) => `${mode(m)}运行未结束，需在${mode(m)}方式继续`],
  [/^no program selected$/, "未选择程序"],
  [/^no such program$/, "找不到该程序"],
  [/^no MDI program$/, "没有MDI程序"],
  [/^rapid traverse is disabled before reference return$/, "回零之前快速移动无效"],
  [/^the jog feed is 0$/, "手动进给速度为0"],
  [/^no such increment$/, "没有这个增量倍率"],
  [/^no spindle speed: command S in MDI first( \(or give rpm\))?$/, "没有主轴转速：请先在MDI方式指令S（或输入转速）"],
  [/^stop the spindle first$/, "请先停止主轴"],
  [/^stop the spindle before working on the vise$/, "请先停止主轴再操作平口钳"],
  [/^the chuck is not clamped$/, "卡盘未夹紧"],
  [/^the chuck is empty$/, "卡盘上没有工件"],
  [/^no workpiece in the chuck$/, "卡盘上没有工件"],
  [/^open the chuck first$/, "请先松开卡盘"],
  [/^the chuck holds a workpiece: unload it first$/, "卡盘上已有工件：请先卸下"],
  [/^the stock does not fit the chuck$/, "毛坯不适合此卡盘"],
  [/^open the vise first$/, "请先松开平口钳"],
  [/^no stock in the vise$/, "平口钳上没有毛坯"],
  [/^a stock is already in the vise$/, "平口钳上已有毛坯"],
  [/^the vise is already (closed|open)$/, (s) => (s === "closed" ? "平口钳已夹紧" : "平口钳已松开")],
  [/^the edge finder is in the spindle: take it out first$/, "主轴上装有寻边器：请先取下"],
  [/^the edge finder is not in the spindle$/, "主轴上没有寻边器"],
  [/^no tool in the spindle over the Z setter$/, "Z轴设定器上方的主轴没有刀具"],
  [/^DATA IS OUT OF RANGE$/, "数据超出范围"],
  [/^MEASURE works on X and Z$/, "测量只用于X和Z"],
  [/^MEASURE works on the geometry page$/, "测量只在形状页面有效"],
  [/^R and T are on the geometry page$/, "R和T在形状页面输入"],
  [/^T is a tip direction 0–9$/, "T为刀尖方位号0～9"],
];

/** The alarm message to show for `code`: Chinese by number, else the server's text. */
export function alarmText(language, code, message) {
  return (language === "zh" && ALARMS_ZH[code]) || message || code;
}

/** The server's reason for refusing a key, in Chinese when we know its wording. */
export function reasonText(language, reason) {
  if (language !== "zh") return reason;
  for (const [pattern, chinese] of REASONS_ZH) {
    const match = pattern.exec(reason);
    if (match) return typeof chinese === "function" ? chinese(...match.slice(1)) : chinese;
  }
  return reason;
}
