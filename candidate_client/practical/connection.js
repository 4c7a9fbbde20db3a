// The machine link: every candidate action becomes a trace event kept in the IndexedDB outbox (outbox.js, the
// theory exam's) until the server acknowledges it after the commit. Events are numbered per attempt (seq from
// 1, no gaps); the same op_id is resent until acknowledged, over Socket.IO or the REST fallback. The state shown
// on screen is only ever the server's: the view on load, then each acknowledged event's update.
/* global Outbox, io */

const ACK_TIMEOUT_MS = 8000, REST_BATCH = 50;
// Replies that restart playback of the run's plan (docs/trace-format.md: the plan is re-timed on these).
const RETIMING = new Set(["cycle_start", "override", "switch"]);
// The state keys every reply carries, copied over the view as they arrive.
const STATE_KEYS = ["power", "estop", "mode", "status", "referenced", "alarms", "position", "modal", "program",
                    "switches", "overrides", "increment", "handle_axis", "time_s"];

export function newOpId() {   // crypto.randomUUID needs a secure context; test-centre LANs often serve plain http
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export class MachineLink {
  constructor({ attemptId, clientId, csrf, api }) {
    Object.assign(this, { attemptId, clientId, csrf, api });
    this.seq = 0;
    this.acked = 0;               // the last seq the server acknowledged
    this.view = null;             // the server's view, kept current by the updates
    this.listeners = [];
    this.flushing = false;
    this.retryMs = 1000;
    this.retryTimer = 0;
    this.stopped = false;
    this.plan = { startedAt: 0, totalMs: 0, synced: true };   // the playing run, on this page's clock
    this.socket = null;
  }

  /** Load the machine from the server: the exact state by replay, and where the seq continues. */
  async load() {
    const data = await this.api("GET", this.machineUrl());
    this.outbox = await Outbox.open(this.attemptId);
    this.adopt(data);
    for (const op of await this.outbox.pending()) this.seq = Math.max(this.seq, op.seq);
    return data;
  }

  machineUrl() { return `/api/attempts/${this.attemptId}/machine?client_id=${this.clientId}`; }

  adopt(data) {
    this.machineType = data.machine_type;
    this.task = data.task;
    this.view = data.view;
    this.seq = Math.max(this.seq, data.last_seq);
    this.acked = data.last_seq;
    this.clock = data.clock;
    const motions = this.view.pending_motions || [];
    if (this.view.status === "running" && motions.length && this.plan.synced) this.startPlan(motions);  // reloaded mid-run
    this.notify({ type: "view", view: true });
  }

  connect() {
    if (typeof io !== "function") return;
    this.socket = io({ transports: ["websocket", "polling"], auth: { seb: window.sebProof ? window.sebProof() : null } });
    this.socket.on("connect", () => { this.setOnline(true); this.flush(); });
    this.socket.on("disconnect", () => this.flush());
    // The examiner's dashboard counts a seat alive by this heartbeat (the transport's ping notices a dead peer late).
    setInterval(() => {
      if (this.socket.connected) this.socket.emit("heartbeat", { attempt_id: this.attemptId, pending: this.seq - this.acked });
    }, 3000);
  }

  /** The mode the candidate selected: the server's, or the last one asked for while keys are still on the way
   * (so a key pressed right after the mode switch means what the candidate sees on the selector). */
  get mode() { return this.acked < this.seq && this.requestedMode ? this.requestedMode : this.view.mode; }

  on(listener) { this.listeners.push(listener); }

  notify(reply) { for (const listener of this.listeners) listener(this.view, reply); }

  /** Milliseconds of playback of the current plan, for `at_ms` (null when nothing plays). */
  playbackMs() {
    if (!this.view || this.view.status !== "running" || !this.plan.startedAt) return null;
    return Math.max(0, Math.round(performance.now() - this.plan.startedAt));
  }

  /** One candidate action: numbered, stored durably, then sent. */
  async send(type, payload = {}) {
    if (this.stopped) return;
    const atMs = this.playbackMs();
    const body = atMs === null || "at_ms" in payload ? payload : { ...payload, at_ms: Math.min(atMs, this.plan.totalMs) };
    this.seq += 1;
    if (type === "mode") this.requestedMode = payload.mode;
    const op = { op_id: newOpId(), attempt_id: this.attemptId, client_id: this.clientId, seq: this.seq,
                 event: { type, payload: body, t_client: Math.round(performance.timeOrigin + performance.now()) } };
    await this.outbox.put(op);
    this.setPending();
    this.flush();
  }

  async transmit(ops) {
    if (this.socket && this.socket.connected) {
      return [await this.socket.timeout(ACK_TIMEOUT_MS).emitWithAck("machine", ops[0])];
    }
    try {
      return await this.api("POST", `/api/attempts/${this.attemptId}/machine/events`, ops);
    } catch (error) {
      if (error.status && error.status < 500) return [{ ok: false, error: { code: error.code || "http", message: error.message } }];
      throw error;
    }
  }

  async flush() {
    if (this.flushing || this.stopped) return;
    this.flushing = true;
    let resync = false;
    try {
      let pending;
      while ((pending = await this.outbox.pending()).length) {
        const useSocket = this.socket && this.socket.connected;
        const batch = pending.slice(0, useSocket ? 1 : REST_BATCH);
        const acks = await this.transmit(batch);
        for (let i = 0; i < acks.length; i += 1) {
          const outcome = await this.settle(batch[i], acks[i]);
          if (outcome === "stop") return;
          if (outcome === "renumbered") break;
          if (outcome === "resync") resync = true;
        }
        this.retryMs = 1000;
        this.setOnline(true);
      }
      if (resync || this.needView) {
        this.needView = false;
        this.adopt(await this.api("GET", this.machineUrl()));
      }
    } catch (error) {
      this.setOnline(false);
      clearTimeout(this.retryTimer);
      this.retryTimer = setTimeout(() => this.flush(), this.retryMs * (0.5 + Math.random()));
      this.retryMs = Math.min(30000, this.retryMs * 2);
    } finally {
      this.flushing = false;
      this.setPending();
    }
  }

  /** What one acknowledgement means for the outbox and the state. */
  async settle(op, ack) {
    if (!ack) throw new Error("no ack");
    if (ack.ok) {
      await this.outbox.remove(op.op_id);
      this.acked = Math.max(this.acked, op.seq);
      if (ack.duplicate || !ack.update) return "resync";     // applied before, its update was lost
      this.applyUpdate(ack.update, op.event);
      return "done";
    }
    const code = ack.error ? ack.error.code : "";
    if (code === "delivery.seq_gap") {
      await this.renumber(ack.last_seq ?? (ack.error && ack.error.last_seq) ?? 0);
      return "renumbered";
    }
    if (["delivery.attempt_closed", "delivery.taken_over"].includes(code)) {
      this.stopped = true;
      this.notify({ type: "closed", code, message: ack.error.message });
      return "stop";
    }
    if (code === "delivery.bad_op" || code === "http") {    // the server will never take it: drop it
      await this.outbox.remove(op.op_id);
      this.acked = Math.max(this.acked, op.seq);
      this.notify({ type: "refused", ok: false, reason: ack.error.message || code });
      return "done";
    }
    throw new Error(code || "refused");
  }

  /** The server has fewer events than we numbered on (a lost local store): continue after its last one. */
  async renumber(lastSeq) {
    let seq = lastSeq;
    for (const op of await this.outbox.pending()) {
      await this.outbox.remove(op.op_id);
      seq += 1;
      await this.outbox.put({ ...op, seq });
    }
    this.seq = seq;
  }

  applyUpdate(update, event) {
    const view = this.view;
    if (view.status !== "idle" && update.status === "idle") this.needView = true;   // a program may set tools, G10
    for (const key of STATE_KEYS) if (key in update) view[key] = update[key];
    mergeResult(view, update, event);
    if (update.stock) view.machine.stock = mergeStock(view.machine.stock, update.stock);
    if (update.new_crashes && update.new_crashes.length) view.crashes = [...(view.crashes || []), ...update.new_crashes];
    const motions = update.motions || [];
    if (update.status === "running" && RETIMING.has(update.type)) {
      view.pending_motions = motions;
      this.startPlan(motions);
    } else if (update.status !== "running") {
      this.plan = { startedAt: 0, totalMs: 0, synced: true };
      view.pending_motions = [];
    }
    this.notify({ ...update, event });
  }

  /** The run's plan starts playing now on this page's clock (the `at_ms` of later keys count from here). */
  startPlan(motions) {
    const held = motions.some((m) => m.seconds === null);           // a 0 % override holds the axes
    this.plan = { startedAt: performance.now(), synced: held,
                  totalMs: Math.round(1000 * motions.reduce((s, m) => s + (m.seconds || 0), 0)) };
    if (!held) this.watchPlanEnd();
  }

  /** When the plan has played on screen, a harmless key lets the server settle the run (status, stock). */
  watchPlanEnd() {
    const plan = this.plan;
    setTimeout(() => {
      if (this.plan !== plan || plan.synced || this.view.status !== "running") return;
      plan.synced = true;
      this.send("program_check", {});
    }, plan.totalMs + 60);
  }

  setOnline(online) { this.notify({ type: "online", online }); }

  async setPending() {
    if (!this.outbox) return;
    const count = (await this.outbox.pending()).length;
    this.notify({ type: "pending", count });
  }
}

/** What a reply's `result` changes in the parts of the view the state keys do not carry. */
function mergeResult(view, update, event) {
  const result = update.result || {};
  const machine = view.machine;
  if (result.editor) view.programs = result.editor;
  if (update.type === "offset" && update.ok) {
    const { number, system, ...values } = result;
    if (system !== undefined) {                               // mill work system: {system, x, y, z}
      machine.work_offsets = { ...machine.work_offsets, [system]: values };
    } else if (values.geometry || "h" in values) {             // a tool offset line (lathe or mill)
      machine.offsets = { ...machine.offsets, [String(number)]: values };
    } else {                                                  // lathe work system: {number: "G54", X, Z}
      machine.work_offsets = { ...machine.work_offsets, [String(number)]: values };
    }
  }
  if (update.type === "chuck" && update.ok) machine.chuck_closed = result.closed;
  if (update.type === "vise" && update.ok && machine.stock) machine.stock.vise_closed = result.closed ?? machine.stock.vise_closed;
  if (update.type === "load_stock" && update.ok) machine.stock_spec = { ...(machine.stock_spec || {}), ...event.payload };
  if (update.ok) mergeTools(machine, update.type, result);
  if (update.type === "measure") view.last_reading = update.ok ? result : { message: update.reason };
}

/** Tool changes by hand: the lathe's turret stations, the mill's magazine pockets and spindle. */
function mergeTools(machine, type, result) {
  if (type === "spindle_tool") {
    if ("probe" in result) machine.probe = result.probe;
    if ("tool" in result) machine.spindle_tool = result.tool;
  } else if (type === "load_tool" && "station" in result) {
    machine.tools = { ...machine.tools, [String(result.station)]: result.tool };
  } else if (type === "load_tool" && "pocket" in result) {
    machine.magazine = { ...machine.magazine, [String(result.pocket)]: result.tool };
  } else if (type === "remove_tool") {
    const key = String(result.station ?? result.pocket);
    const table = "station" in result ? "tools" : "magazine";
    machine[table] = Object.fromEntries(Object.entries(machine[table] || {}).filter(([k]) => k !== key));
  }
}

/** Lathe replies carry the whole display profile; mill replies carry the whole stock or changed tiles. */
function mergeStock(current, change) {
  if ("profile" in change) return change.profile;                 // lathe: the profile, or null once unloaded
  if (change.tiles && current && !("loaded" in change)) {
    const tiles = { ...(current.tiles_by_key || {}) };
    for (const tile of change.tiles) tiles[`${tile.row},${tile.col}`] = tile;
    return { ...current, tiles_by_key: tiles, changed_tiles: change.tiles };
  }
  return { ...change, changed_tiles: change.tiles || [] };
}
