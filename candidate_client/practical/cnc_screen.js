// The CNC screen in the FANUC 0i-F look: POS, PROG, OFS/SET, MESSAGE/ALARM and GRAPH pages with soft keys, the
// key-in line and the status line. It draws only the server's state (link.view); what it keeps itself is what
// the control keeps on the screen side: the page shown, the offset cursor and the key-in buffer before INPUT.
// In EDIT mode on the PROG page the key-in buffer is the editor's own (the server's), so every key is an event.

import { alarmText, reasonText } from "./alarm_texts.js";
import { pointAt } from "./view3d.js";

const esc = (text) => String(text ?? "").replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
const mm = (value) => (Number(value) || 0).toFixed(3);
const OFFSET_ROWS = 16;
const LIVE_MS = 200;            // the counters' refresh while a program runs
const WORK_SYSTEMS = ["EXT", "G54", "G55", "G56", "G57", "G58", "G59"];
const EDIT_KEYS = new Set(["INSERT", "ALTER", "DELETE", "CAN", "EOB", "LEFT", "RIGHT", "UP", "DOWN", "PAGE_UP",
                           "PAGE_DOWN"]);

export class CncScreen {
  constructor(root, link, label) {
    Object.assign(this, { root, link, label });
    this.page = "pos";
    this.sub = { pos: "all", prog: "program", ofs: "geometry", msg: "alarm", graph: "path" };
    this.keyin = "";
    this.cursor = { row: 1, col: 0 };
    this.message = "";
    this.path = [];                           // moves seen this session, for GRAPH
    this.root.innerHTML = `<div class="cnc-title" id="cnc-title"></div><div class="cnc-body" id="cnc-body"></div>
      <div class="cnc-keyin" id="cnc-keyin"></div><div class="cnc-status" id="cnc-status"></div>
      <div class="cnc-softkeys" id="cnc-softkeys"></div>`;
    link.on((view, reply) => this.onUpdate(view, reply));
    setInterval(() => this.refreshLive(), LIVE_MS);
    this.root.querySelector("#cnc-body").addEventListener("click", (event) => this.pickCell(event));
  }

  /** A click on an offset cell puts the cursor there, as the cursor keys would. */
  pickCell(event) {
    const cell = event.target.closest("td.ofs-cell");
    if (!cell) return;
    const row = cell.parentElement.dataset.row;
    this.cursor = { row: this.sub.ofs === "work" ? row : Number(row), col: cell.cellIndex - 1 };
    this.render();
  }

  get lathe() { return this.link.machineType !== "mill"; }
  get axes() { return this.lathe ? ["X", "Z"] : ["X", "Y", "Z"]; }
  get editing() { return this.page === "prog" && this.link.mode === "EDIT"; }

  onUpdate(view, reply) {
    if (reply.type === "pending" || reply.type === "online") return;
    if (reply.motions) this.path.push(...reply.motions.map((m) => ({ ...m, locked: view.switches.machine_lock })));
    if (reply.view && view.pending_motions && !this.path.length) this.path.push(...view.pending_motions);
    if (this.path.length > 4000) this.path.splice(0, this.path.length - 4000);
    if (view.alarms.length > (this.alarmCount ?? view.alarms.length)) {     // a new alarm: the alarm page comes
      this.page = "msg";                                                    // up, as on the 0i-F by default
      this.sub.msg = "alarm";
    }
    this.alarmCount = view.alarms.length;
    if (reply.ok === false && reply.reason) {
      this.message = this.label("ui.rejected", { reason: reasonText(this.label.language, reply.reason) });
    }
    else if (reply.seq) this.message = "";
    if (reply.type === "program_check" && reply.result && reply.result.alarms && reply.result.alarms.length) {
      this.message = reply.result.alarms.map((a) => `${a.code} L${a.line}`).join("  ");
    }
    this.render();
  }

  // ---- keys -----------------------------------------------------------------------------------------------
  showPage(page) {
    this.page = page;
    this.render();
  }

  /** One MDI key: CHAR (with text), EOB, CAN, INSERT, ALTER, DELETE, INPUT, cursor and page keys, RESET. */
  key(key, text = "") {
    if (key === "RESET") return this.link.send("reset", {});
    if (this.editing && (key === "CHAR" || EDIT_KEYS.has(key))) {
      return this.link.send("edit_key", key === "CHAR" ? { key, text } : { key });
    }
    if (key === "CHAR") { this.keyin = (this.keyin + text.toUpperCase()).slice(0, 128); return this.render(); }
    if (key === "EOB") { this.keyin += ";"; return this.render(); }
    if (key === "CAN") { this.keyin = this.keyin.slice(0, -1); return this.render(); }
    if (this.page === "ofs") return this.offsetKey(key);
    if (this.page === "prog" && this.link.mode === "MDI") return this.mdiKey(key);
    return undefined;
  }

  /** Enter on the computer keyboard: INPUT on the offset pages, EOB on the program page. */
  enter() { return this.key(this.page === "ofs" ? "INPUT" : "EOB"); }

  mdiKey(key) {
    const waiting = this.link.acked < this.link.seq && this.mdiSent !== undefined;   // an INSERT still on its way
    const current = waiting ? this.mdiSent : this.link.view.program.mdi || "";
    if ((key === "INSERT" || key === "INPUT") && this.keyin) {
      this.mdiSent = current + this.keyin.replace(/;/g, ";\n");
      this.keyin = "";
      return this.link.send("mdi", { text: this.mdiSent });
    }
    if (key === "DELETE") { this.mdiSent = ""; return this.link.send("mdi", { text: "" }); }
    return undefined;
  }

  offsetKey(key) {
    const rows = this.offsetRows(), cols = this.offsetColumns();
    const moves = { UP: [-1, 0], DOWN: [1, 0], LEFT: [0, -1], RIGHT: [0, 1], PAGE_UP: [-8, 0], PAGE_DOWN: [8, 0] };
    if (moves[key]) {
      const index = Math.max(0, Math.min(rows.length - 1, rows.indexOf(this.cursor.row) + moves[key][0]));
      this.cursor = { row: rows[index], col: Math.max(0, Math.min(cols.length - 1, this.cursor.col + moves[key][1])) };
      return this.render();
    }
    if (key === "INPUT") return this.offsetInput("input");
    return undefined;
  }

  offsetRows() {
    if (this.sub.ofs === "work") return WORK_SYSTEMS;
    return Array.from({ length: OFFSET_ROWS }, (_, i) => i + 1);
  }

  /** Columns of the offset page: [label, page, axis]. */
  offsetColumns() {
    if (this.sub.ofs === "work") return this.axes.map((a) => [a, "work", a]);
    if (!this.lathe) return [["H", "geometry", "H"], ["H", "wear", "H"], ["D", "geometry", "D"], ["D", "wear", "D"]];
    const page = this.sub.ofs;
    return page === "wear" ? [["X", page, "X"], ["Z", page, "Z"]] : ["X", "Z", "R", "T"].map((a) => [a, page, a]);
  }

  /** INPUT, +INPUT or MEASURE with the key-in buffer: `X48.` names the axis; a plain number uses the cursor's. */
  offsetInput(op) {
    const match = /^([A-Z]?)(-?\d*\.?\d*)$/.exec(this.keyin.replace(/;/g, ""));
    if (!match || match[2] === "" || match[2] === "-" || match[2] === ".") { this.message = "FORMAT ERROR"; return this.render(); }
    const [, page, cursorAxis] = this.offsetColumns()[this.cursor.col];
    let axis = match[1] || cursorAxis;
    if (!this.lathe && page !== "work" && axis === "Z") axis = "H";
    const number = this.sub.ofs === "work" || this.lathe ? this.cursor.row : String(this.cursor.row);
    this.keyin = "";
    this.render();
    return this.link.send("offset", { page, number, axis, value: Number(match[2]), op });
  }

  softKey(name) {
    const action = this.softKeys().find(([key]) => key === name);
    if (action) action[1]();
  }

  softKeys() {
    const sub = (page, value) => () => {
      if (page === "ofs" && (value === "work") !== (this.sub.ofs === "work")) this.cursor = { row: value === "work" ? "G54" : 1, col: 0 };
      this.sub[page] = value;
      this.render();
    };
    const send = (...args) => () => this.link.send(...args);
    const typed = () => this.keyin.replace(/[^0-9]/g, "");
    switch (this.page) {
      case "pos":
        return [["pos.absolute", sub("pos", "absolute")], ["pos.relative", sub("pos", "relative")],
                ["pos.all", sub("pos", "all")], ["pos.origin", () => this.origin()]];
      case "prog":
        return [["prog.program", sub("prog", "program")], ["prog.dir", sub("prog", "dir")],
                ["prog.search", () => { const n = Number(typed()); this.keyin = ""; if (n) this.link.send("program_select", { number: n }); }],
                ["prog.check", send("program_check", {})]];
      case "ofs":
        return [["ofs.geometry", sub("ofs", "geometry")], ["ofs.wear", sub("ofs", "wear")], ["ofs.work", sub("ofs", "work")],
                ["ofs.number", () => this.searchNumber()], ["ofs.measure", () => this.offsetInput("measure")],
                ["ofs.add", () => this.offsetInput("add")], ["ofs.input", () => this.offsetInput("input")]];
      case "msg":
        return [["screen.alarm", sub("msg", "alarm")], ["alarm.log", sub("msg", "log")]];
      default:
        return [["graph.title", sub("graph", "path")], ["graph.clear", () => { this.path = []; this.render(); }]];
    }
  }

  searchNumber() {
    const rows = this.offsetRows();
    const typed = this.keyin.replace(/[^0-9]/g, "");
    const row = this.sub.ofs === "work" ? WORK_SYSTEMS[Number(typed)] : Number(typed);
    if (rows.includes(row)) this.cursor = { ...this.cursor, row };
    this.keyin = "";
    this.render();
  }

  origin() {
    const letter = this.keyin.replace(/[^A-Z]/g, "").slice(0, 1);
    const axis = { U: "X", W: "Z", V: "Y" }[letter] || letter;
    this.keyin = "";
    this.render();
    if (this.axes.includes(axis)) this.link.send("origin", { axis });
  }

  // ---- drawing --------------------------------------------------------------------------------------------
  render() {
    const view = this.link.view;
    if (!view) return;
    const $ = (id) => this.root.querySelector(`#${id}`);
    $("cnc-title").innerHTML = this.title(view);
    $("cnc-body").innerHTML = view.power ? this.body(view) : `<div class="cnc-off"></div>`;
    $("cnc-body").className = `cnc-body page-${this.page}`;
    const buffer = this.editing ? (view.programs.buffer || "") : this.keyin;
    const note = (this.editing && view.programs.message) || this.message;
    $("cnc-keyin").innerHTML = `<span id="keyin">&gt;${esc(buffer)}</span><span class="cnc-note" id="cnc-note">${esc(note)}</span>`;
    $("cnc-status").innerHTML = this.statusLine(view);
    $("cnc-softkeys").replaceChildren(...this.softKeys().map(([name]) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "softkey";
      button.dataset.soft = name;
      button.textContent = this.label(name);
      button.addEventListener("click", () => this.softKey(name));
      return button;
    }));
    if (this.page === "graph") this.drawGraph();
    const cursor = this.root.querySelector(".cursor");
    if (cursor) cursor.scrollIntoView({ block: "nearest" });
  }

  /** While a program plays: the title's block number, the status line and the POS or PROG page. Soft keys and
   * the key-in line are left alone, so a click on them is never cut in two. */
  refreshLive() {
    const view = this.link.view;
    if (!view || !view.power || !this.live(view)) return;
    this.root.querySelector("#cnc-title").innerHTML = this.title(view);
    this.root.querySelector("#cnc-status").innerHTML = this.statusLine(view);
    if (this.page === "pos" || (this.page === "prog" && this.sub.prog === "program")) {
      this.root.querySelector("#cnc-body").innerHTML = this.body(view);
    }
  }

  title(view) {
    const names = { pos: "screen.pos", prog: "screen.prog", ofs: "screen.ofs", msg: "screen.alarm", graph: "screen.graph" };
    const number = view.program.running || view.program.selected || 0;
    const line = this.live(view)?.motion.line || view.program.line || 0;
    return `<span>${esc(this.label(names[this.page]))}</span>
      <span class="cnc-onum" id="cnc-onum">O${String(number).padStart(4, "0")} N${String(line).padStart(5, "0")}</span>`;
  }

  statusLine(view) {
    const status = !view.power ? "status.power_off" : view.estop ? "status.estop" : `status.${view.status}`;
    const alarm = view.alarms.length ? `<span class="alm" id="alm">ALM</span>` : "";
    return `<span id="status-mode">${esc(this.label(`mode.${view.mode}`))}</span>
      <span id="status-run">${esc(this.label(status))}</span>${alarm}
      <span>T${esc(view.modal.T)}</span><span>S${Math.round(view.modal.spindle.rpm)}</span><span>F${this.feed(view)}</span>`;
  }

  body(view) {
    switch (this.page) {
      case "pos": return this.posPage(view);
      case "prog": return this.progPage(view);
      case "ofs": return this.ofsPage(view);
      case "msg": return this.msgPage(view);
      default: return `<canvas id="cnc-graph" class="cnc-graph" width="520" height="300"></canvas>`;
    }
  }

  axisLines(kind, values, compact = false) {
    const names = kind === "relative" && this.lathe ? { X: "U", Z: "W" } : {};
    return this.axes.map((axis) => `<div class="${compact ? "pos-small" : "pos-big"}"><b>${names[axis] || axis}</b>
      <span id="pos-${kind}-${axis}">${mm(values[axis])}</span></div>`).join("");
  }

  /** The feed shown: the actual feed of the move being played, else the programmed F. */
  feed(view) {
    const motion = this.live(view)?.motion;
    if (!motion || motion.kind === "rapid" || !motion.feed_mm_min) return view.modal.F;
    return Math.round(motion.feed_mm_min);
  }

  /** While a program runs, the move being played (from the server's plan, on the page's clock) and the tool's
   * point in it; null otherwise. The machine's counters stand still under machine lock, as the 3D view does. */
  live(view) {
    const motions = (view && view.pending_motions) || [];
    const startedAt = this.link.plan && this.link.plan.startedAt;
    if (!view || view.status !== "running" || !motions.length || !startedAt || view.switches.machine_lock) return null;
    let t = (performance.now() - startedAt) / 1000;
    for (const motion of motions) {
      if (motion.seconds === null) return { motion, point: motion.start, base: motions[0].start };
      if (t <= motion.seconds) return { motion, point: pointAt(motion, motion.seconds > 0 ? t / motion.seconds : 1), base: motions[0].start };
      t -= motion.seconds;
    }
    const last = motions[motions.length - 1];
    return { motion: last, point: last.end, base: motions[0].start };
  }

  /** The server's counters (the state at the plan's start while running) moved by the played distance. */
  positions(view) {
    const live = this.live(view);
    if (!live) return view.position;
    const { point, base } = live;
    const delta = this.lathe ? { X: 2 * (point[0] - base[0]), Z: point[1] - base[1] }     // X on the diameter
      : { X: point[0] - base[0], Y: point[1] - base[1], Z: point[2] - base[2] };
    const moved = (values, sign) => Object.fromEntries(this.axes.map((a) => [a, (Number(values[a]) || 0) + sign * delta[a]]));
    return { ...view.position, relative: moved(view.position.relative, 1), absolute: moved(view.position.absolute, 1),
             machine: moved(view.position.machine, 1), distance_to_go: moved(view.position.distance_to_go, -1) };
  }

  posPage(view) {
    const p = this.positions(view), sub = this.sub.pos;
    if (sub !== "all") return `<h3>${esc(this.label(`pos.${sub}`))}</h3>${this.axisLines(sub, p[sub])}`;
    const block = (kind) => `<div class="pos-block"><h4>${esc(this.label(`pos.${kind}`))}</h4>${this.axisLines(kind, p[kind], true)}</div>`;
    return `<div class="pos-all">${["relative", "absolute", "machine", "distance_to_go"].map(block).join("")}</div>
      <div class="pos-run"><span>${esc(view.program.block || "")}</span></div>`;
  }

  progPage(view) {
    if (view.mode === "MDI") {
      return `<h4>${esc(this.label("prog.mdi_program"))} O0000</h4><pre class="prog-text" id="mdi-text">${esc(view.program.mdi)}</pre>`;
    }
    const programs = view.programs || {};
    if (this.sub.prog === "dir") {
      const rows = (programs.directory || []).map((p) => `<tr><td>O${String(p.number).padStart(4, "0")}</td>
        <td>${p.size}</td><td>${esc(p.comment)}</td></tr>`).join("");
      return `<table class="prog-dir" id="prog-dir"><tr><th>O</th><th>SIZE</th><th>COMMENT</th></tr>${rows}</table>`;
    }
    return `<pre class="prog-text" id="prog-text">${this.programText(view, programs)}</pre>`;
  }

  /** The program with the editor's cursor unit (EDIT) or the executing line (MEM) highlighted. */
  programText(view, programs) {
    const text = programs.text || "";
    const running = this.live(view)?.motion.line || view.program.line;
    if (view.mode !== "EDIT" && running) {
      return text.split("\n").map((line, i) => (i + 1 === running ? `<span class="cursor">${esc(line)}</span>`
        : esc(line))).join("\n");
    }
    const cursor = programs.cursor;
    if (!cursor) return esc(text);
    return `${esc(text.slice(0, cursor.start))}<span class="cursor">${esc(text.slice(cursor.start, cursor.end))}</span>${esc(text.slice(cursor.end))}`;
  }

  ofsPage(view) {
    const cols = this.offsetColumns(), rows = this.offsetRows();
    const both = !this.lathe && this.sub.ofs !== "work";        // the mill's memory C: geometry and wear side by side
    const head = cols.map(([name, page]) => `<th>${name}${both ? ` ${esc(this.label(`ofs.${page}`))}` : ""}</th>`).join("");
    const body = rows.map((row) => `<tr data-row="${row}">
      <td>${typeof row === "number" ? String(row).padStart(3, "0") : `${String(WORK_SYSTEMS.indexOf(row)).padStart(2, "0")} ${row}`}</td>
      ${cols.map((col, c) => this.offsetCell(view, row, col, c)).join("")}</tr>`).join("");
    const title = this.label(`ofs.${this.sub.ofs}`);
    return `<h4>${esc(title)}</h4><table class="ofs" id="ofs-table"><tr><th>${esc(this.label("ofs.number"))}</th>${head}</tr>${body}</table>`;
  }

  offsetCell(view, row, [, page, axis], c) {
    const value = this.offsetValue(view.machine, row, page, axis);
    const id = `ofs-${page}-${row}-${axis}`;
    const here = this.cursor.row === row && this.cursor.col === c ? " cursor" : "";
    const text = axis === "T" ? String(value ?? 0) : mm(value);
    return `<td class="ofs-cell${here}" id="${id}">${text}</td>`;
  }

  offsetValue(machine, row, page, axis) {
    if (page === "work") {
      const system = machine.work_offsets[row] || {};
      return system[axis] ?? system[axis.toLowerCase()] ?? 0;
    }
    const line = machine.offsets[String(row)];
    if (!line) return 0;
    if (!this.lathe) return line[{ H: "h", D: "d" }[axis] + (page === "wear" ? "_wear" : "")];
    return (line[page] || {})[axis] ?? 0;
  }

  msgPage(view) {
    if (this.sub.msg === "log") {
      const crashes = (view.crashes || []).map((c) => `<li>${esc(this.label("msg.crash"))}: ${esc(c.kind || c.code || "")} ${esc(c.detail || c.message || "")}</li>`);
      return `<ul class="alarm-log" id="alarm-log">${crashes.join("")}</ul>`;
    }
    if (!view.alarms.length) return `<p id="alarm-list">${esc(this.label("alarm.none"))}</p>`;
    return `<ul class="alarms" id="alarm-list">${view.alarms.map((a) => `<li title="${esc(a.message)}"><b>${esc(a.code)}</b>
      ${esc(alarmText(this.label.language, a.code, a.message))} ${a.line ? `L${a.line}` : ""}
      <small>${esc(a.detail || "")}</small></li>`).join("")}</ul>`;
  }

  /** GRAPH: the moves seen, in the machine's main plane (lathe: Z across, X up; mill: X across, Y up). */
  drawGraph() {
    const canvas = this.root.querySelector("#cnc-graph");
    if (!canvas) return;
    canvas.width = canvas.clientWidth || canvas.width;          // one canvas pixel a screen pixel: no stretching
    canvas.height = canvas.clientHeight || canvas.height;
    const g = canvas.getContext("2d");
    g.fillStyle = "#0b1730";
    g.fillRect(0, 0, canvas.width, canvas.height);
    const pick = this.lathe ? (p) => [p[1], p[0]] : (p) => [p[0], p[1]];
    const points = this.path.flatMap((m) => [pick(m.start), pick(m.end)]);
    if (!points.length) return;
    const xs = points.map((p) => p[0]), ys = points.map((p) => p[1]);
    const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
    const scale = Math.min((canvas.width - 20) / Math.max(1, x1 - x0), (canvas.height - 20) / Math.max(1, y1 - y0));
    const at = (p) => [10 + (p[0] - x0) * scale, canvas.height - 10 - (p[1] - y0) * scale];
    for (const m of this.path) {
      g.strokeStyle = m.kind === "rapid" ? "#e0c040" : "#40e070";
      g.setLineDash(m.kind === "rapid" ? [4, 3] : []);
      g.beginPath();
      g.moveTo(...at(pick(m.start)));
      g.lineTo(...at(pick(m.end)));
      g.stroke();
    }
  }
}
