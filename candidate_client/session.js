// The examiner's dashboard of one exam session (read-only for supervisors): a live tile per seat, a candidate's
// read-only detail, and the actions each role may take. Also drives the session report page's sign buttons.
// Styles are set through the CSSOM: the pages' Content-Security-Policy allows no inline style attributes.
"use strict";
(() => {
  const CSRF_META = document.querySelector('meta[name="csrf-token"]');
  const CSRF = CSRF_META ? CSRF_META.content : "";
  const $ = (id) => document.getElementById(id);
  const OFFLINE_AFTER_MS = 7000;         // candidates send a heartbeat every 3 s: two missed, then red
  const REFRESH_MS = 10000;

  async function api(method, path, body) {
    const response = await fetch(path, { method, credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": CSRF },
      body: body === undefined ? undefined : JSON.stringify(body) });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      throw Object.assign(new Error(data.error ? data.error.message : response.statusText), { status: response.status });
    }
    return data;
  }

  function element(tag, attributes = {}, ...children) {
    const node = document.createElement(tag);
    Object.assign(node, attributes);
    node.append(...children);
    return node;
  }

  // ---- the report page: each button posts to its route, then the page shows the new state ----------------
  const reportPage = $("report");
  if (reportPage) {
    for (const b of reportPage.querySelectorAll("button[data-path]")) {
      b.addEventListener("click", async () => {
        try { await api("POST", b.dataset.path); location.reload(); } catch (error) {
          $("report-error").textContent = error.message; $("report-error").hidden = false;
        }
      });
    }
    return;
  }

  const root = $("session");
  const SESSION = Number(root.dataset.session);
  const CAN_ACT = root.dataset.canAct === "1", CAN_SUPERVISE = root.dataset.canSupervise === "1";
  const M = JSON.parse($("messages").textContent);
  const fill = (text, values) => text.replace(/\{(\w+)\}/g, (_, k) => values[k] ?? "");
  const openedAt = performance.now();
  const live = {};   // roster entry id → the last tile event: {at, online, answered, total, pending, savedAt, machine}
  let snapshot = null, snapshotAt = 0, selected = 0, refreshTimer = 0;

  function clock(ms) {
    const s = Math.max(0, Math.ceil(ms / 1000));
    return [Math.floor(s / 3600), Math.floor(s / 60) % 60, s % 60].map((n) => String(n).padStart(2, "0")).join(":");
  }

  function showError(message) {
    $("session-error").textContent = message;
    $("session-error").hidden = !message;
  }

  async function act(work) {
    showError("");
    try { await work(); } catch (error) { showError(error.message); }
    refresh();
  }

  function text() {
    const value = ($("monitor-text") || { value: "" }).value.trim();
    if (!value) throw new Error(M.text_required);
    return value;
  }

  // ---- tiles ---------------------------------------------------------------------------------------------
  const OPEN = ["active", "paused"];

  function connection(tile) {
    const beat = live[tile.roster_entry_id];
    const attempt = tile.attempt;
    if (!attempt || !OPEN.includes(attempt.phase)) return beat && beat.online ? "online" : "unknown";
    if (beat && beat.online && performance.now() - beat.at < OFFLINE_AFTER_MS) return "online";
    if (beat || performance.now() - openedAt > OFFLINE_AFTER_MS) return "offline";
    return "unknown";
  }

  const LIGHT = { online: "#2e9d44", offline: "#d23c3c", unknown: "#9aa0a6" };

  function remainingMs(attempt) {
    if (attempt.phase !== "active" || (snapshot && snapshot.status === "paused")) return attempt.remaining_ms;
    return attempt.remaining_ms - (performance.now() - snapshotAt);
  }

  function savedAgo(tile) {
    const beat = live[tile.roster_entry_id];
    let savedMs = tile.attempt.last_saved_ms === null ? null : snapshot.now_ms - tile.attempt.last_saved_ms
      + (performance.now() - snapshotAt);
    if (beat && beat.savedAt !== undefined) savedMs = performance.now() - beat.savedAt;
    return savedMs === null ? M.never_saved : fill(M.saved_ago, { seconds: Math.round(savedMs / 1000) });
  }

  function tileLines(tile) {
    const attempt = tile.attempt, beat = live[tile.roster_entry_id] || {};
    if (!attempt) return [M.phase.none, tile.late_start ? M.late : ""];
    const total = beat.total ? `/${beat.total}` : "";
    const answered = beat.answered !== undefined ? beat.answered : attempt.answered;
    return [
      `${M.phase[attempt.phase]}${attempt.paused_alone ? ` (${M.paused_alone})` : ""} · ${clock(remainingMs(attempt))}`,
      `${fill(M.answered, { n: `${answered}${total}` })} · ${savedAgo(tile)}`,
      attempt.accommodation_s ? fill(M.accommodation, { minutes: Math.round(attempt.accommodation_s / 60) }) : "",
      Object.entries(attempt.signals).map(([k, n]) => `${M.signal[k] || k} ×${n}`).join("，"),
      attempt.flags.map((f) => f.startsWith("misconduct:") ? M.tier[f.slice(11)] : f).join("，"),
      attempt.takeover_waiting ? M.takeover : "", tile.late_start ? M.late : "",
      ...(attempt.machine ? machineLines(attempt.machine, beat.machine) : []),
    ];
  }

  // A practical seat: what the server's machine session shows (pushed after each applied event, newer than the
  // snapshot), and how busy the trace is.
  function machineLines(activity, pushed) {
    const m = { ...activity, ...(pushed || {}) };
    const program = m.running ? ` · O${String(m.program).padStart(4, "0")} N${m.line}` : "";
    return [
      m.mode ? `${m.power ? m.mode : M.power_off} · ${M.run[m.status] || m.status}${program}` : "",
      m.alarms && m.alarms.length ? fill(M.machine_alarms, { codes: m.alarms.join(" ") }) : "",
      m.crashes ? fill(M.machine_crashes, { n: m.crashes }) : "",
      m.events ? fill(M.machine, { events: m.events, seconds: Math.round((snapshot.now_ms - m.last_event_ms) / 1000) }) : "",
    ];
  }

  function machineTrouble(tile) {
    if (!tile.attempt || !tile.attempt.machine) return false;
    const m = { ...tile.attempt.machine, ...((live[tile.roster_entry_id] || {}).machine || {}) };
    return Boolean((m.alarms && m.alarms.length) || m.crashes);
  }

  function renderTile(tile) {
    const state = connection(tile);
    const light = element("span", { className: "light", title: M[state] });
    light.dataset.state = state;
    Object.assign(light.style, { display: "inline-block", width: "0.8em", height: "0.8em", borderRadius: "50%",
                                 background: LIGHT[state], marginRight: "0.4em" });
    const head = element("div", { className: "tile-head" }, light, element("strong", {}, tile.seat), ` ${tile.name}`);
    const photo = tile.has_photo ? element("img", { src: `/api/roster/${tile.roster_entry_id}/photo`, alt: "" }) : "";
    if (photo) Object.assign(photo.style, { width: "48px", height: "64px", objectFit: "cover", float: "right" });
    const lines = tileLines(tile).filter(Boolean).map((line) => element("div", {}, line));
    const node = element("div", { id: `tile-${tile.roster_entry_id}`, className: `tile ${state}`, tabIndex: 0 },
                         photo, head, ...lines);
    node.setAttribute("role", "listitem");
    node.dataset.state = state;
    node.dataset.phase = tile.attempt ? tile.attempt.phase : "none";
    node.dataset.alarm = machineTrouble(tile) ? "1" : "0";
    Object.assign(node.style, { border: `2px solid ${LIGHT[state]}`, borderRadius: "6px", padding: "0.5em",
                                outline: machineTrouble(tile) ? "3px solid #e0a100" : "none",
                                width: "15em", minHeight: "7em", cursor: "pointer", fontSize: "0.9em",
                                background: selected === tile.roster_entry_id ? "#eef4ff" : "#fff" });
    node.addEventListener("click", () => select(tile.roster_entry_id));
    return node;
  }

  function render() {
    if (!snapshot) return;
    $("session-status").textContent = M.status[snapshot.status];
    const online = snapshot.tiles.filter((t) => connection(t) === "online").length;
    $("counts").textContent = `${M.online} ${online}/${snapshot.tiles.length}`;
    const grid = $("tiles");
    Object.assign(grid.style, { display: "flex", flexWrap: "wrap", gap: "0.6em" });
    grid.replaceChildren(...snapshot.tiles.map(renderTile));
    renderRoster();
  }

  function renderRoster() {      // the same seats as a plain table: a text view, for screen readers and printing
    const cell = (text) => element("td", { textContent: text });
    $("roster").querySelector("tbody").replaceChildren(...snapshot.tiles.map((tile) => {
      const attempt = tile.attempt;
      return element("tr", {}, cell(tile.seat), cell(tile.name), cell(tile.ticket_number),
                     cell(M.phase[attempt ? attempt.phase : "none"]), cell(attempt ? clock(remainingMs(attempt)) : ""),
                     cell(M[connection(tile)]));
    }));
  }

  async function load() {
    try {
      return await api("GET", `/api/sessions/${SESSION}/monitor`);
    } catch (error) {
      if (error.status !== 404) throw error;
      return fromOverview(await api("GET", `/api/sessions/${SESSION}`));   // a server without the monitoring routes
    }
  }

  function fromOverview(overview) {
    const tiles = overview.roster.map((row) => ({ ...row, has_photo: false, late_start: false, attempt: row.attempt && {
      ...row.attempt, answered: 0, last_saved_ms: null, accommodation_s: 0, flags: [], paused_alone: false } }));
    return { ...overview, tiles, now_ms: Date.now() };
  }

  async function refresh() {
    try {
      snapshot = await load();
      snapshotAt = performance.now();
      render();
      if (selected) showDetail();
    } catch (error) { showError(error.message); }
  }

  function refreshSoon() { clearTimeout(refreshTimer); refreshTimer = setTimeout(refresh, 200); }

  // ---- the detail of one candidate, and the actions on them ---------------------------------------------
  const tileOf = (entryId) => snapshot.tiles.find((t) => t.roster_entry_id === entryId);

  function select(entryId) { selected = entryId; render(); showDetail(); }

  function actionsFor(tile) {
    const attempt = tile.attempt, id = attempt && attempt.id;
    const post = (path, body) => () => api("POST", path, body);
    const actions = {};
    if (CAN_ACT) {
      actions["reset-seat"] = post(`/api/roster/${tile.roster_entry_id}/seat-delay/reset`);
      if (!attempt && snapshot.status !== "ended") {
        actions["late-start"] = () => api("POST", `/api/roster/${tile.roster_entry_id}/late-start`, { reason: text() });
      }
      if (attempt && attempt.takeover_waiting) actions["approve-takeover"] = post(`/api/attempts/${id}/takeover/approve`);
      if (attempt && OPEN.includes(attempt.phase)) {
        actions["add-time"] = async () => {
          await api("POST", `/api/attempts/${id}/time`, {
            seconds: Math.round(Number($("monitor-minutes").value) * 60), kind: "incident", reason: text() });
        };
        if (attempt.paused_alone) actions.resume = post(`/api/attempts/${id}/resume`);
        else if (attempt.phase === "active") actions.pause = () => api("POST", `/api/attempts/${id}/pause`, { reason: text() });
        actions["announce-one"] = () => api("POST", `/api/sessions/${SESSION}/announcements`, { text: text(), attempt_id: id });
      }
      if (attempt && [...OPEN, "expired"].includes(attempt.phase)) {
        actions["force-submit"] = () => confirm(M.confirm) && api("POST", `/api/attempts/${id}/force-submit`);
      }
      if (attempt && attempt.phase !== "voided") {
        actions.void = () => confirm(M.confirm) && api("POST", `/api/attempts/${id}/void`, { reason: text() });
        actions.misconduct = () => {
          const [kind, tier] = $("monitor-choice").value.split(":");
          if (kind !== "misconduct") throw new Error(M.tier.warning);
          return api("POST", `/api/attempts/${id}/misconduct`, { tier, description: text(), evidence: { notes: text() } });
        };
      }
    }
    if (CAN_SUPERVISE && attempt) {
      actions["annotate-one"] = () => api("POST", `/api/sessions/${SESSION}/annotations`, { text: text(), attempt_id: id });
    }
    return actions;
  }

  function misconductRow(record) {
    const row = element("li", {}, `#${record.id} ${M.tier[record.sanction.tier]} · ${record.description} · `
                         + `${M.record_status[record.status]}${record.statement ? ` · ${record.statement}` : ""} `);
    const buttons = [];
    if (CAN_ACT && record.status === "draft") {
      buttons.push(["statement", () => api("POST", `/api/misconduct/${record.id}/statement`, { statement: text() })],
                   ["sign", () => api("POST", `/api/misconduct/${record.id}/sign`)]);
    }
    if (CAN_SUPERVISE && record.status === "signed") {
      buttons.push(["countersign", () => api("POST", `/api/misconduct/${record.id}/countersign`)]);
    }
    for (const [name, work] of buttons) {
      const b = element("button", { type: "button", textContent: M.action[name] });
      b.dataset.action = name;
      b.addEventListener("click", () => act(work));
      row.append(b);
    }
    return row;
  }

  async function showDetail() {
    const tile = tileOf(selected);
    if (!tile) return;
    $("detail").hidden = false;
    $("detail-title").textContent = `${tile.seat} ${tile.name}`;
    $("detail-actions").replaceChildren(...Object.entries(actionsFor(tile)).map(([name, work]) => {
      const b = element("button", { type: "button", textContent: M.action[name] });
      b.dataset.action = name;
      b.addEventListener("click", () => act(work));
      return b;
    }));
    if (!tile.attempt) { $("detail-body").replaceChildren(); mirror(null); return; }
    const detail = await api("GET", `/api/attempts/${tile.attempt.id}/monitor`);
    mirror(detail.practical ? tile.attempt.id : null);
    const items = detail.items.map((item) => {
      const mark = element("span", { textContent: item.item_id, title: item.flagged ? M.flagged : "" });
      Object.assign(mark.style, { display: "inline-block", margin: "0.15em", padding: "0 0.3em", borderRadius: "3px",
                                  background: item.answered ? "#cfe8d5" : "#eee",
                                  outline: item.flagged ? "2px solid #e0a100" : "none" });
      return mark;
    });
    $("detail-body").replaceChildren(
      element("p", {}, `${M.phase[detail.phase]} · ${M.remaining} ${clock(detail.remaining_ms)}`),
      element("h3", {}, M.items), element("div", { id: "detail-items" }, ...items),
      element("h3", {}, M.adjustments),
      element("ul", {}, ...detail.adjustments.map((a) => element("li", {},
        `${a.seconds > 0 ? "+" : ""}${Math.round(a.seconds / 60)} min · ${a.kind} · ${a.reason}${a.reverted ? " ✗" : ""}`))),
      element("h3", {}, M.signals),
      element("ul", {}, ...detail.signals.map((s) => element("li", {}, `${M.signal[s.kind] || s.kind} ${s.detail}`))),
      element("h3", {}, M.misconduct), element("ul", { id: "detail-misconduct" }, ...detail.misconduct.map(misconductRow)),
      detail.practical ? element("h3", {}, M.machine_events) : "",
      element("ol", { id: "detail-machine" }, ...detail.machine_events.map((e) => element("li", {},
        `#${e.seq} ${e.type} ${JSON.stringify(e.payload).slice(0, 120)}`))));
  }

  // A practical candidate's machine, mirrored read-only below the detail (monitor_mirror.js).
  function mirror(attemptId) {
    if (!window.monitorMirror) return;
    if (attemptId) window.monitorMirror.show(attemptId); else window.monitorMirror.hide();
  }

  // ---- room-wide actions ---------------------------------------------------------------------------------
  // The server pushes each time or state change to the candidates' pages itself.
  const ACTIONS = {
    "check-in": async () => { const data = await api("POST", `/api/sessions/${SESSION}/check-in`);
                              $("pin").textContent = data.pin; $("pin-box").hidden = false; },
    start: () => api("POST", `/api/sessions/${SESSION}/start`),
    pause: async () => {
      const reason = prompt(M.reason, "");
      if (reason) await api("POST", `/api/sessions/${SESSION}/pause`, { reason });
    },
    resume: () => api("POST", `/api/sessions/${SESSION}/resume`),
    end: async () => {
      if (confirm(M.confirm_end)) await api("POST", `/api/sessions/${SESSION}/end`);
    },
  };
  for (const b of document.querySelectorAll("#session-actions button")) {
    b.addEventListener("click", () => act(ACTIONS[b.dataset.action]));
  }
  const on = (id, work) => { if ($(id)) $(id).addEventListener("click", () => act(work)); };
  on("announce-room", () => api("POST", `/api/sessions/${SESSION}/announcements`, { text: text() }));
  on("report-incident", () => {
    const [kind, category] = $("monitor-choice").value.split(":");
    if (kind !== "incident") throw new Error(M.text_required);
    return api("POST", `/api/sessions/${SESSION}/incidents`, { category, description: text(),
                                                               attempt_id: (tileOf(selected) || {}).attempt?.id });
  });
  on("annotate", () => api("POST", `/api/sessions/${SESSION}/annotations`, { text: text() }));

  // ---- live: heartbeats and changes pushed by the server ------------------------------------------------
  const socket = io({ transports: ["websocket", "polling"] });
  window.monitorSocket = socket;      // shared with monitor_mirror.js
  socket.on("connect", () => { socket.emit("monitor_join", { session_id: SESSION }); refresh(); });
  socket.on("tile", (beat) => {
    const now = performance.now();
    const known = live[beat.roster_entry_id] || {};
    live[beat.roster_entry_id] = { ...known, ...beat, at: now,
                                   savedAt: beat.saved_ago_ms !== undefined ? now - beat.saved_ago_ms : known.savedAt };
    if (beat.signal) refreshSoon();
  });
  socket.on("changed", refreshSoon);
  refresh();
  setInterval(render, 1000);
  setInterval(refresh, REFRESH_MS);
})();
