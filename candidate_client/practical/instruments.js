// The measuring instruments on the current part: calipers, micrometer and depth gauge (lathe and mill), edge
// finder and Z setter (mill). A reading is a `measure` event; the value shown is the server's reading at the
// instrument's resolution (docs/instruments.md). Placements are in the stock frame (lathe: z along the axis,
// x as a diameter; mill: origin at the centre of the raw stock's top).

const LATHE = {
  micrometer: [["z", "inst.z", -10]],
  vernier_caliper: [["z", "inst.z", -10]],
  digital_caliper: [["z", "inst.z", -10]],
  depth_gauge: [["x", "inst.x", 20]],
};
const MILL = {
  vernier_caliper: [["point", "inst.point", "0,0,-5"], ["direction", "inst.direction", "x"]],
  digital_caliper: [["point", "inst.point", "0,0,-5"], ["direction", "inst.direction", "x"]],
  micrometer: [["point", "inst.point", "0,0,-5"], ["direction", "inst.direction", "x"]],
  depth_gauge: [["base", "inst.base", "-35,-35"], ["at", "inst.at", "0,0"]],
  edge_finder: [],
  z_setter: [],
};

export class InstrumentsPanel {
  constructor(root, link, label) {
    Object.assign(this, { root, link, label });
    const table = link.machineType === "mill" ? MILL : LATHE;
    const allowed = ((link.task && link.task.instruments) || []).map((i) => (typeof i === "string" ? i : i.name));
    this.table = Object.fromEntries(Object.entries(table).filter(([name]) => !allowed.length || allowed.includes(name)));
    if (!Object.keys(this.table).length) this.table = table;
    this.select = Object.assign(document.createElement("select"), { id: "instrument" });
    for (const name of Object.keys(this.table)) this.select.append(new Option(label(`inst.${name}`), name));
    this.fields = document.createElement("span");
    this.fields.className = "inst-fields";
    const measure = Object.assign(document.createElement("button"), { type: "button", id: "inst-measure", className: "vbtn", textContent: label("inst.measure") });
    this.reading = Object.assign(document.createElement("output"), { id: "inst-reading", className: "inst-reading" });
    root.append(this.select, this.fields, measure, this.reading);
    this.select.addEventListener("change", () => this.showFields());
    measure.addEventListener("click", () => this.measure());
    this.showFields();
    link.on((view, reply) => { if (reply.type === "measure") this.show(reply); });
  }

  showFields() {
    this.fields.replaceChildren(...this.table[this.select.value].map(([key, name, value]) => {
      const input = Object.assign(document.createElement("input"), { id: `inst-${key}`, value, size: 9, className: "num" });
      const wrap = document.createElement("label");
      wrap.append(this.label(name), input);
      return wrap;
    }));
  }

  placement() {
    const placement = {};
    for (const [key] of this.table[this.select.value]) {
      const text = this.root.querySelector(`#inst-${key}`).value.trim();
      if (key === "direction") placement[key] = /^-?\d/.test(text) ? Number(text) : text;
      else if (text.includes(",")) placement[key] = text.split(",").map(Number);
      else placement[key] = Number(text);
    }
    return placement;
  }

  measure() {
    const instrument = this.select.value;
    const placement = this.placement();
    this.link.send("measure", Object.keys(placement).length ? { instrument, placement } : { instrument });
  }

  show(reply) {
    const result = reply.result || {};
    const name = this.label(`inst.${result.instrument || this.select.value}`);
    if (!reply.ok || result.message) {
      this.reading.textContent = `${name}: ${this.label("inst.cannot")} ${result.message || reply.reason || ""}`;
    } else if (result.value !== null && result.value !== undefined) {
      const digits = Math.max(0, Math.round(-Math.log10(result.resolution || 0.01)));
      this.reading.textContent = `${name}: ${Number(result.value).toFixed(digits)} mm`;
      this.reading.dataset.value = result.value;
    } else {
      this.reading.textContent = `${name}: ${result.state || ""}`;
    }
  }
}
