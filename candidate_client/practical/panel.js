// The machine operator panel: power, emergency stop, mode selector, cycle start / feed hold, the switches,
// override knobs, jog buttons, the handwheel (mouse wheel or drag), spindle, coolant and the workholding keys.
// Each key is one trace event; the lamps show the server's state only.

const MODES = ["EDIT", "MEM", "MDI", "JOG", "INC", "HANDLE", "REF"];
const SWITCHES = ["single_block", "optional_stop", "block_delete", "dry_run", "machine_lock"];
const OVERRIDES = {
  feed: Array.from({ length: 16 }, (_, i) => i * 10),
  rapid: [0, 25, 50, 100],
  spindle: [50, 60, 70, 80, 90, 100, 110, 120],
  jog_feed: [0, 10, 20, 50, 100, 200, 400, 600, 1000, 1260],
};
const INCREMENTS = [[0.001, "×1"], [0.01, "×10"], [0.1, "×100"], [1, "×1000"]];
const PULSES_PER_TURN = 100;          // a manual pulse generator: 100 detents a turn
const PIXELS_PER_PULSE = 10;          // mouse wheel: one notch (100 px) = 10 pulses
const HANDLE_BATCH_MS = 120;          // pulses turned within this time go as one event

export class OperatorPanel {
  constructor(root, link, label) {
    Object.assign(this, { root, link, label });
    this.rapid = false;
    this.pulses = 0;
    this.wheelRest = 0;
    this.handleTimer = 0;
    this.build();
    link.on((view, reply) => { if (reply.type !== "pending" && reply.type !== "online") this.render(view); });
  }

  get lathe() { return this.link.machineType !== "mill"; }
  get axes() { return this.lathe ? ["X", "Z"] : ["X", "Y", "Z"]; }
  send(type, payload = {}) { return this.link.send(type, payload); }

  el(tag, attributes = {}, ...children) {
    const node = Object.assign(document.createElement(tag), attributes);
    node.append(...children);
    return node;
  }

  key(id, text, onClick, className = "pkey") {
    const button = this.el("button", { type: "button", id, className, textContent: text });
    button.addEventListener("click", onClick);
    return button;
  }

  group(title, ...children) {
    return this.el("fieldset", { className: "pgroup" }, this.el("legend", { textContent: title }), ...children);
  }

  /** A key that sends one event; `payload` may be a function, read when the key is pressed. */
  action(id, name, type, payload = {}, className = "pkey") {
    return this.key(id, this.label(name), () => this.send(type, typeof payload === "function" ? payload() : payload),
                    className);
  }

  /** Laid out as the operator panel under a 0i-F screen: power, mode and emergency stop on top; the run keys
   * and switches; jog, handwheel and the override knobs; spindle; the workholding keys. */
  build() {
    const view = () => this.link.view;
    const power = this.group(this.label("panel.power"),
      this.action("power-on", "panel.power_on", "power", { on: true }, "pkey green"),
      this.action("power-off", "panel.power_off", "power", { on: false }, "pkey red"));
    const modes = this.group(this.label("panel.mode"),
      ...MODES.map((mode) => this.action(`mode-${mode}`, `mode.${mode}`, "mode", { mode }, "pkey mode")));
    const estop = this.action("estop", "panel.estop", "estop", () => ({ pressed: !view().estop }), "estop");
    const run = this.group("",
      this.action("cycle-start", "panel.cycle_start", "cycle_start", {}, "pkey green big"),
      this.action("feed-hold", "panel.feed_hold", "feed_hold", {}, "pkey red big"),
      this.action("panel-reset", "panel.reset", "reset"));
    const switches = this.group("", ...SWITCHES.map((name) => this.action(`switch-${name}`, `panel.${name}`, "switch",
      () => ({ name, on: !view().switches[name] }), "pkey switch")));
    const row = (...children) => this.el("div", { className: "prow" }, ...children);
    this.root.replaceChildren(row(power, modes, estop), row(run, switches),
                              row(this.jog(), this.handwheel(), this.overrides()), row(this.spindle()),
                              row(this.lathe ? this.latheHolding() : this.millHolding()));
  }

  overrides() {
    const names = { feed: "panel.feed_override", rapid: "panel.rapid_override", spindle: "panel.spindle_override",
                    jog_feed: "panel.jog_feed" };
    const face = (which, v) => (which === "rapid" && v === 0 ? "F0" : `${v}${which === "jog_feed" ? "" : "%"}`);
    const knobs = Object.entries(OVERRIDES).map(([which, values]) => {
      const select = this.el("select", { id: `override-${which}` },
                             ...values.map((v) => this.el("option", { value: v, textContent: face(which, v) })));
      select.addEventListener("change", () => this.send("override", { which, value: Number(select.value) }));
      let rest = 0;
      select.addEventListener("wheel", (event) => {       // turned like the knob: one notch (100 px) a step
        event.preventDefault();
        rest += event.deltaY * (event.deltaMode === 1 ? 40 : 1);
        if (Math.abs(rest) < 100) return;
        const index = select.selectedIndex + (rest < 0 ? 1 : -1);
        rest = 0;
        if (index < 0 || index >= select.options.length) return;
        select.selectedIndex = index;
        select.dispatchEvent(new Event("change"));
      }, { passive: false });
      return this.el("label", { className: "knob" }, this.label(names[which]), select);
    });
    const group = this.group(this.label("panel.overrides"), ...knobs);
    group.classList.add("knobs");
    return group;
  }

  /** Jog keys in columns, + above −, with the rapid key; the reference-position lamps beneath, as on the panel. */
  jog() {
    const jogKey = (axis, direction) => {
      const button = this.el("button", { type: "button", className: "pkey jog",
                                         id: `jog-${axis}${direction > 0 ? "plus" : "minus"}`,
                                         textContent: `${direction > 0 ? "+" : "−"}${axis}` });
      this.holdToJog(button, axis, direction);
      return button;
    };
    const rapid = this.key("jog-rapid", this.label("panel.rapid"), () => {
      this.rapid = !this.rapid;            // held with an axis key on the machine: a toggle here
      this.render(this.link.view);
    }, "pkey switch");
    const keys = this.el("div", { className: "jog-keys" }, ...this.axes.map((axis) => jogKey(axis, 1)), rapid,
                         ...this.axes.map((axis) => jogKey(axis, -1)));
    keys.style.gridTemplateColumns = `repeat(${this.axes.length + 1}, auto)`;
    const lamps = this.el("div", { className: "ref-lamps" }, this.label("panel.ref_lamps"),
                          ...this.axes.map((axis) => this.el("span", { className: "lamp", id: `ref-${axis}`, textContent: axis })));
    const group = this.group(this.label("panel.jog"), keys, lamps);
    group.classList.add("stack");
    return group;
  }

  /** JOG: the axis moves while the button is held (sent on release with the held time); INC: one step; REF:
   * reference return of that axis. */
  holdToJog(button, axis, direction) {
    let downAt = 0;
    button.addEventListener("pointerdown", () => { downAt = performance.now(); });
    const release = () => {
      if (!downAt) return;
      const ms = Math.max(1, Math.round(performance.now() - downAt));
      downAt = 0;
      const mode = this.link.mode;
      if (mode === "JOG") this.send("jog", { axis, direction, ms, ...(this.rapid ? { rapid: true } : {}) });
      else if (mode === "INC") this.send("step", { axis, direction });
      else if (mode === "REF") this.send("ref_return", { axis });
      else this.send("jog", { axis, direction, ms });     // the control refuses it: recorded as on the machine
    };
    button.addEventListener("pointerup", release);
    button.addEventListener("pointerleave", release);
  }

  /** The manual pulse generator: axis and multiplier (also the INC step) beside the wheel, and what is chosen. */
  handwheel() {
    const axisKeys = this.axes.map((axis) => this.key(`handle-axis-${axis}`, axis,
                                                      () => this.send("handle_axis", { axis }), "pkey inc"));
    const increments = INCREMENTS.map(([mm, text]) => this.key(`increment-${mm}`, text,
                                                                () => this.send("increment", { mm }), "pkey inc"));
    const wheel = this.el("div", { className: "handwheel", id: "handwheel", title: this.label("panel.handwheel_hint") },
                          this.el("div", { className: "handwheel-mark" }),
                          this.el("output", { className: "handwheel-state", id: "handwheel-state" }));
    wheel.addEventListener("wheel", (event) => {
      event.preventDefault();
      const pixels = event.deltaY * (event.deltaMode === 1 ? 40 : 1) + this.wheelRest;
      const pulses = Math.trunc(-pixels / PIXELS_PER_PULSE);
      this.wheelRest = pixels + pulses * PIXELS_PER_PULSE;
      this.turn(pulses);
    }, { passive: false });
    this.dragToTurn(wheel);
    return this.group(this.label("panel.handwheel"),
      this.el("div", { className: "handle-keys" }, this.el("div", { className: "handle-axes", title: this.label("panel.handle_axis") }, ...axisKeys),
              this.el("div", { className: "handle-increments", title: this.label("panel.increment") }, ...increments)),
      wheel);
  }

  dragToTurn(wheel) {
    let last = null, rest = 0;
    const angle = (event) => {
      const box = wheel.getBoundingClientRect();
      return Math.atan2(event.clientY - box.top - box.height / 2, event.clientX - box.left - box.width / 2);
    };
    wheel.addEventListener("pointerdown", (event) => { last = angle(event); wheel.setPointerCapture(event.pointerId); });
    wheel.addEventListener("pointermove", (event) => {
      if (last === null) return;
      const now = angle(event);
      let delta = now - last;
      if (delta > Math.PI) delta -= 2 * Math.PI;
      if (delta < -Math.PI) delta += 2 * Math.PI;
      last = now;
      const exact = rest + delta / (2 * Math.PI) * PULSES_PER_TURN;
      const pulses = Math.trunc(exact);
      rest = exact - pulses;
      this.turn(pulses);
    });
    wheel.addEventListener("pointerup", () => { last = null; rest = 0; });
  }

  /** Pulses turned in quick succession go as one `handle` event, as the control reads the generator. */
  turn(pulses) {
    if (!pulses) return;
    this.pulses += pulses;
    this.wheelAngle = ((this.wheelAngle || 0) + pulses * 3.6) % 360;
    this.root.querySelector(".handwheel-mark").style.transform = `rotate(${this.wheelAngle}deg)`;
    if (this.handleTimer) return;
    this.handleTimer = setTimeout(() => {
      const batch = this.pulses;
      this.pulses = 0;
      this.handleTimer = 0;
      if (batch) this.send("handle", { pulses: batch });
    }, HANDLE_BATCH_MS);
  }

  number(id, value, min, max) {
    return this.el("input", { type: "number", id, value, min, max, className: "num" });
  }

  spindle() {
    const rpm = this.number("spindle-rpm", 800, 0, 4000);
    const turn = (command) => () => ({ command, rpm: Number(rpm.value) });
    return this.group(this.label("panel.spindle"),
      this.action("spindle-cw", "panel.spindle_cw", "spindle", turn("cw")),
      this.action("spindle-stop", "panel.spindle_stop", "spindle", { command: "stop" }),
      this.action("spindle-ccw", "panel.spindle_ccw", "spindle", turn("ccw")),
      this.el("label", { className: "inline" }, this.label("panel.spindle_rpm"), rpm),
      this.action("coolant", "panel.coolant", "coolant", () => ({ on: !this.link.view.modal.coolant }), "pkey switch"),
      this.el("output", { id: "spindle-state", className: "spindle-state" }));
  }

  latheHolding() {
    const stickOut = this.number("stick-out", 75, 10, 200);
    const station = this.el("select", { id: "turret-station" },
                            ...[1, 2, 3, 4, 5, 6].map((n) => this.el("option", { value: n, textContent: `T${n}` })));
    return this.group(this.label("panel.holding"),
      this.action("chuck", "panel.chuck", "chuck", () => ({ closed: !this.link.view.machine.chuck_closed }), "pkey switch"),
      this.el("label", { className: "inline" }, this.label("panel.stick_out"), stickOut),
      this.action("load-stock", "panel.load_stock", "load_stock", () => ({ stick_out: Number(stickOut.value) })),
      this.action("unload-stock", "panel.unload_stock", "unload_stock"),
      station, this.action("turret", "panel.turret", "turret", () => ({ station: Number(station.value) })));
  }

  millHolding() {
    const protrusion = this.number("protrusion", 12, 1, 60);
    const pocket = this.number("pocket", 1, 0, 24);
    const crib = this.number("crib-tool", 1, 1, 99);
    const machine = () => this.link.view.machine;
    return this.group(this.label("panel.holding"),
      this.action("vise", "panel.vise", "vise", () => ({ closed: !(machine().stock || {}).vise_closed }), "pkey switch"),
      this.el("label", { className: "inline" }, this.label("panel.protrusion"), protrusion),
      this.action("load-stock", "panel.load_stock", "load_stock", () => ({ protrusion: Number(protrusion.value) })),
      this.action("unload-stock", "panel.unload_stock", "unload_stock"),
      this.el("label", { className: "inline" }, this.label("panel.crib_tool"), crib),
      this.el("label", { className: "inline" }, this.label("panel.pocket"), pocket),
      this.action("load-tool", "panel.load_tool", "load_tool", () => ({ pocket: Number(pocket.value), tool: Number(crib.value) })),
      this.action("spindle-tool", "panel.spindle_tool", "spindle_tool", () => ({ pocket: Number(pocket.value) })),
      this.action("edge-finder", "panel.edge_finder_on", "spindle_tool",
                  () => ({ probe: machine().probe ? "" : "edge_finder" })));
  }

  /** Lamps and knob positions from the server's state. */
  render(view) {
    if (!view) return;
    const lamp = (id, on) => {
      const node = this.root.querySelector(`#${CSS.escape(id)}`);
      if (node) node.classList.toggle("on", Boolean(on));
    };
    for (const m of MODES) lamp(`mode-${m}`, view.mode === m);
    for (const s of SWITCHES) lamp(`switch-${s}`, view.switches[s]);
    for (const [mm] of INCREMENTS) lamp(`increment-${mm}`, Math.abs(view.increment - mm) < 1e-9);
    for (const axis of this.axes) lamp(`handle-axis-${axis}`, view.handle_axis === axis);
    lamp("power-on", view.power);
    lamp("estop", view.estop);
    lamp("cycle-start", view.status === "running");
    lamp("feed-hold", view.status === "held");
    lamp("jog-rapid", this.rapid);
    lamp("coolant", view.modal.coolant);
    lamp("spindle-cw", view.modal.spindle.direction > 0);
    lamp("spindle-ccw", view.modal.spindle.direction < 0);
    lamp("chuck", view.machine.chuck_closed);
    lamp("vise", view.machine.stock && view.machine.stock.vise_closed);
    for (const axis of this.axes) lamp(`ref-${axis}`, view.referenced.includes(axis));
    this.showHandle(view);
    for (const which of Object.keys(OVERRIDES)) {
      const select = this.root.querySelector(`#override-${which}`);
      const value = view.overrides[which];
      if (select && ![...select.options].some((o) => Number(o.value) === value)) {
        select.append(this.el("option", { value, textContent: value }));     // a value set by another knob step
      }
      if (select && document.activeElement !== select) select.value = String(value);
    }
  }

  /** What the handwheel drives, on the wheel itself; and the spindle's actual state beside its keys. */
  showHandle(view) {
    const text = INCREMENTS.find(([mm]) => Math.abs(view.increment - mm) < 1e-9);
    this.root.querySelector("#handwheel-state").textContent = `${view.handle_axis || "-"} ${text ? text[1] : ""}`;
    const spindle = view.modal.spindle;
    const turning = spindle.direction && spindle.rpm > 0;
    const state = this.root.querySelector("#spindle-state");
    state.textContent = turning ? `${spindle.direction > 0 ? "↻" : "↺"} ${Math.round(spindle.rpm)} r/min` : "";
    state.classList.toggle("on", Boolean(turning));
  }
}
