// The theory exam in the browser. The server owns time and answers: this page shows the server's remaining
// time (re-synced every 30 s, on reconnect and whenever the examiner changes it) and saves every change through
// the outbox. A heartbeat every 3 s tells the examiner's dashboard this seat is alive (the transport's own
// ping takes ~45 s to notice a dead peer); announcements show as dismissable banners; a pause covers the page.
"use strict";
(() => {
  const MESSAGES = JSON.parse(document.getElementById("messages").textContent);
  const CSRF = document.querySelector('meta[name="csrf-token"]').content;
  const ENTRY = Number(document.body.dataset.entry);
  const RESYNC_MS = 30000, ACK_TIMEOUT_MS = 5000, TYPING_DEBOUNCE_MS = 400, HEARTBEAT_MS = 3000;
  const $ = (id) => document.getElementById(id);
  const tr = (key, values = {}) => (MESSAGES[key] || key).replace(/\{(\w+)\}/g, (_, k) => values[k] ?? "");

  const state = {
    attemptId: 0, paper: null, answers: {}, index: 0, seq: 0, phase: "active",
    remainingMs: 0, syncedAt: 0, warned: new Set(), finished: false, submitting: false, retryMs: 1000,
    savedAt: null,
  };
  let outbox, socket, flushing = false, retryTimer = 0;
  // One browser at a time: this tab's id survives reloads (sessionStorage), a second tab gets its own.
  const CLIENT = sessionStorage.getItem("exam-client") || newOpId();
  sessionStorage.setItem("exam-client", CLIENT);

  async function api(method, path, body) {
    const response = await fetch(path, {
      method, credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": CSRF, ...window.sebHeaders() },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw Object.assign(new Error(data.error ? data.error.message : response.statusText),
                                          { status: response.status, code: data.error && data.error.code });
    return data;
  }

  function newOpId() {  // crypto.randomUUID needs a secure context; test-centre LANs often serve plain http
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  // ---- time --------------------------------------------------------------------------------------------
  function syncClock(server) {
    state.remainingMs = server.remaining_ms;
    state.syncedAt = performance.now();
    state.phase = server.phase;
  }

  function remaining() {
    if (state.phase === "paused") return state.remainingMs;
    return Math.max(0, state.remainingMs - (performance.now() - state.syncedAt));
  }

  function tick() {
    const ms = remaining();
    const s = Math.ceil(ms / 1000);
    $("timer").textContent = [Math.floor(s / 3600), Math.floor(s / 60) % 60, s % 60]
      .map((n) => String(n).padStart(2, "0")).join(":");
    for (const minutes of [15, 5]) {
      if (ms <= minutes * 60000 && ms > 0 && !state.warned.has(minutes)) {
        state.warned.add(minutes);
        showBanner("warning", tr(`exam.warning_${minutes}`));
      }
    }
    if (state.phase === "paused") showBanner("warning", tr("exam.paused"));
    showPaused(state.phase === "paused" && !state.finished);
    if (ms <= 0 && state.paper && state.phase !== "paused") finish(true);
  }

  async function resync() {
    try {
      syncClock(await api("GET", `/api/attempts/${state.attemptId}?client_id=${CLIENT}`));
      if (["submitted", "voided"].includes(state.phase) && !state.finished) {
        showFinished(null, !state.closedBy);
        if (state.closedBy) $("receipt").append(element("p", { id: "closed-by-examiner" }, tr(`exam.monitor.${state.closedBy}`)));
      }
    } catch (error) {
      if (error.code === "delivery.taken_over") stopHere(error.message);
      /* otherwise offline: the local countdown continues from the last sync */
    }
  }

  // ---- saving ------------------------------------------------------------------------------------------
  async function record(itemId, change) {
    const answer = { ...(state.answers[itemId] || { value: null, flagged: false }), ...change };
    state.answers[itemId] = answer;
    state.seq += 1;
    await outbox.put({ op_id: newOpId(), attempt_id: state.attemptId, seq: state.seq, item_id: itemId,
                       value: answer.value, flagged: answer.flagged, client_id: CLIENT });
    renderNavigator();
    flush();
  }

  async function send(op) {
    if (socket && socket.connected) {
      return socket.timeout(ACK_TIMEOUT_MS).emitWithAck("save", op);
    }
    try {
      return await api("POST", `/api/attempts/${state.attemptId}/saves`, op);
    } catch (error) {
      if (error.status) return { ok: false, error: { code: error.code } };
      throw error;
    }
  }

  async function flush() {
    if (flushing || state.finished) return;
    flushing = true;
    try {
      let pending;
      while ((pending = await outbox.pending()).length) {   // changes made while sending are sent too
        for (const op of pending) {
          const ack = await send(op);
          if (ack.error && ack.error.code === "delivery.attempt_closed") {
            await resync();
            return;
          }
          if (ack.error && ack.error.code === "delivery.taken_over") {
            stopHere(tr("delivery.taken_over"));
            return;
          }
          if (!ack.ok && !(ack.error && ack.error.code === "delivery.bad_op")) {
            throw new Error(ack.error ? ack.error.code : "no ack");
          }
          await outbox.remove(op.op_id);
        }
        state.retryMs = 1000;
        state.savedAt = performance.now();
        setOnline(true);
        $("save-status").textContent = tr("exam.saved_at", {
          time: new Date().toLocaleTimeString("zh-CN", { hour12: false }) });
      }
    } catch (error) {
      setOnline(false);
      $("save-status").textContent = tr("exam.saving", { count: (await outbox.pending()).length });
      clearTimeout(retryTimer);
      retryTimer = setTimeout(flush, state.retryMs * (0.5 + Math.random()));  // backoff with jitter
      state.retryMs = Math.min(30000, state.retryMs * 2);
    } finally {
      flushing = false;
    }
  }

  function setOnline(online) { $("offline").hidden = online; }

  // ---- the examiner's dashboard: heartbeat, announcements, pause -----------------------------------------
  function heartbeat(extra = {}) {
    if (!socket || !socket.connected || state.finished) return;
    const answeredCount = state.paper ? items().filter(answered).length : 0;
    socket.emit("heartbeat", { attempt_id: state.attemptId, answered: answeredCount,
                               total: state.paper ? items().length : 0, pending: pendingCount,
                               ...(state.savedAt === null ? {} : { saved_ago_ms: Math.round(performance.now() - state.savedAt) }),
                               ...extra });
  }
  let pendingCount = 0;

  const dismissed = new Set(JSON.parse(sessionStorage.getItem("exam-dismissed") || "[]"));

  function showAnnouncement(announcement) {
    if (dismissed.has(announcement.id) || document.getElementById(`announcement-${announcement.id}`)) return;
    const close = element("button", { type: "button", className: "dismiss", textContent: tr("exam.monitor.dismiss") });
    const banner = element("div", { id: `announcement-${announcement.id}`, className: "banner warning announcement",
                                    role: "alert" },
                           element("strong", {}, `${tr("exam.monitor.announcement")}：`),
                           element("span", { className: "announcement-text" }, announcement.text), " ", close);
    close.addEventListener("click", () => {
      dismissed.add(announcement.id);
      sessionStorage.setItem("exam-dismissed", JSON.stringify([...dismissed]));
      banner.remove();
    });
    $("warning").after(banner);
  }

  async function loadAnnouncements() {
    try {
      const data = await api("GET", `/api/attempts/${state.attemptId}/announcements`);
      data.announcements.forEach(showAnnouncement);
    } catch (error) { /* offline: shown when the connection returns */ }
  }

  function showPaused(paused) {
    let overlay = $("paused-overlay");
    if (!overlay && !paused) return;
    if (!overlay) {
      overlay = element("div", { id: "paused-overlay", role: "alertdialog" },
                        element("p", {}, tr("exam.monitor.paused_overlay")));
      Object.assign(overlay.style, { position: "fixed", inset: "0", background: "rgba(30, 30, 30, 0.75)",
                                     color: "#fff", fontSize: "1.6em", display: "flex", alignItems: "center",
                                     justifyContent: "center", zIndex: "1000", textAlign: "center" });
      document.body.append(overlay);
    }
    if (!paused && $("warning").textContent === tr("exam.paused")) $("warning").hidden = true;
    overlay.hidden = !paused;
    overlay.style.display = paused ? "flex" : "none";
  }

  function onMonitor(event) {
    if (event.kind === "announcement") showAnnouncement(event.announcement);
    else {                // time added, paused, resumed, submitted or voided by the examiner
      if (["submitted", "voided"].includes(event.kind)) state.closedBy = event.kind;
      resync();
    }
  }

  function showBanner(id, text) { $(id).textContent = text; $(id).hidden = false; }

  // ---- rendering ---------------------------------------------------------------------------------------
  const items = () => state.paper.items;
  const answered = (item) => {
    const a = state.answers[item.id];
    return a && a.value !== null && a.value !== "" && !(Array.isArray(a.value) && a.value.length === 0);
  };

  function renderNavigator() {
    const nav = $("navigator");
    nav.replaceChildren(...items().map((item, i) => {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = i + 1;
      button.dataset.index = i;
      button.className = [answered(item) ? "answered" : "", (state.answers[item.id] || {}).flagged ? "flagged" : "",
                          i === state.index && !$("question").hidden ? "current" : ""].join(" ").trim();
      button.addEventListener("click", () => show(i));
      return button;
    }));
  }

  function element(tag, attributes = {}, ...children) {
    const node = document.createElement(tag);
    Object.assign(node, attributes);
    node.append(...children);
    return node;
  }

  function choiceInputs(item, answer) {
    const multiple = item.type === "multiple";
    const chosen = new Set(multiple ? answer.value || [] : [answer.value]);
    return item.options.map((option, i) => {
      const input = element("input", { type: multiple ? "checkbox" : "radio", name: item.id, value: option.id,
                                       checked: chosen.has(option.id) });
      input.addEventListener("change", () => {
        const value = multiple ? [...document.querySelectorAll(`input[name="${item.id}"]:checked`)]
          .map((x) => x.value).sort() : option.id;
        record(item.id, { value });
      });
      return element("label", { className: "option" }, input, ` ${"ABCDEFGH"[i]}. ${option.text}`);
    });
  }

  function trueFalseInputs(item, answer) {
    return [true, false].map((value) => {
      const input = element("input", { type: "radio", name: item.id, checked: answer.value === value });
      input.addEventListener("change", () => record(item.id, { value }));
      return element("label", { className: "option" }, input, ` ${tr(value ? "exam.true" : "exam.false")}`);
    });
  }

  function numericInput(item, answer) {
    const input = element("input", { type: "text", inputMode: "decimal", className: "numeric",
                                     value: answer.value ?? "", placeholder: tr("exam.numeric_hint") });
    let timer = 0;
    input.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        const text = input.value.trim();
        const value = text === "" ? null : Number(text);
        if (text === "" || Number.isFinite(value)) record(item.id, { value });
      }, TYPING_DEBOUNCE_MS);
    });
    return [input, item.unit ? ` ${item.unit}` : ""];
  }

  function show(index) {
    state.index = Math.max(0, Math.min(items().length - 1, index));
    const item = items()[state.index];
    const answer = state.answers[item.id] || { value: null, flagged: false };
    const inputs = { single: choiceInputs, multiple: choiceInputs, truefalse: trueFalseInputs,
                     numeric: numericInput }[item.type](item, answer);
    const flag = element("button", { type: "button", id: "flag", className: "flag",
                                     textContent: tr(answer.flagged ? "exam.unflag" : "exam.flag") });
    flag.addEventListener("click", async () => { await record(item.id, { flagged: !answer.flagged }); show(state.index); });
    const previous = element("button", { type: "button", id: "previous", textContent: tr("exam.previous"),
                                         disabled: state.index === 0 });
    previous.addEventListener("click", () => show(state.index - 1));
    const next = element("button", { type: "button", id: "next", textContent: tr("exam.next"),
                                     disabled: state.index === items().length - 1 });
    next.addEventListener("click", () => show(state.index + 1));
    const review = element("button", { type: "button", id: "to-review", textContent: tr("exam.review") });
    review.addEventListener("click", showReview);
    $("question").replaceChildren(
      element("p", { className: "meta" }, tr("exam.question", { n: state.index + 1, total: items().length }),
              " · ", tr(`exam.type.${item.type}`), " · ", tr("exam.points", { points: item.points })),
      element("h2", { className: "stem", id: "stem" }, item.stem),
      element("div", { className: "answers", id: "answers" }, ...inputs),
      element("div", { className: "actions" }, previous, next, flag, review));
    $("review").hidden = true;
    $("question").hidden = false;
    renderNavigator();
  }

  function showReview() {
    const unanswered = items().filter((item) => !answered(item)).length;
    const flagged = items().filter((item) => (state.answers[item.id] || {}).flagged).length;
    const back = element("button", { type: "button", textContent: tr("exam.back") });
    back.addEventListener("click", () => show(state.index));
    const submit = element("button", { type: "button", id: "submit", className: "primary", textContent: tr("exam.submit") });
    const confirm = element("div", { className: "confirm", id: "confirm", hidden: true },
      element("p", {}, tr("exam.confirm_submit")),
      element("button", { type: "button", id: "confirm-yes", className: "primary", textContent: tr("exam.confirm_yes"),
                          onclick: () => finish(false) }),
      element("button", { type: "button", id: "confirm-no", textContent: tr("exam.confirm_no"),
                          onclick: () => { confirm.hidden = true; } }));
    submit.addEventListener("click", () => { confirm.hidden = false; });
    $("review").replaceChildren(element("h2", {}, tr("exam.review_title")),
      element("p", { id: "unanswered" }, tr("exam.unanswered", { count: unanswered })),
      element("p", { id: "flagged" }, tr("exam.flagged", { count: flagged })),
      element("div", { className: "actions" }, back, submit), confirm);
    $("question").hidden = true;
    $("review").hidden = false;
    renderNavigator();
  }

  async function finish(timeUp) {
    if (state.submitting || state.finished) return;
    state.submitting = true;
    clearTimeout(retryTimer);
    while (flushing) await new Promise((resolve) => setTimeout(resolve, 50));
    await flush();                       // everything typed goes in before the submission
    try {
      showFinished(await api("POST", `/api/attempts/${state.attemptId}/submit`, { client_id: CLIENT }), timeUp);
    } catch (error) {
      showFinished(null, true);          // already closed by the server (time up, or the examiner)
    }
  }

  function stopHere(message) {
    state.finished = true;
    showFinished(null, false);
    $("receipt").replaceChildren(element("p", { id: "stopped" }, message));
  }

  function showFinished(receipt, timeUp) {
    state.finished = true;
    $("question").hidden = true;
    $("review").hidden = true;
    $("navigator").hidden = true;
    $("receipt").replaceChildren(element("h2", { id: "receipt-title" }, tr("exam.receipt_title")),
      timeUp ? element("p", {}, tr("exam.time_up")) : "",
      receipt ? element("p", { id: "receipt-text" }, tr("exam.receipt", receipt)) : "");
    $("receipt").hidden = false;
  }

  // ---- integrity signals: recorded for the examiners, never penalties by themselves --------------------
  function signal(kind, detail = "") {
    const payload = { attempt_id: state.attemptId, kind, detail };
    heartbeat({ signal: kind });
    if (socket && socket.connected) socket.timeout(ACK_TIMEOUT_MS).emit("signal", payload, () => {});
    else api("POST", `/api/attempts/${state.attemptId}/signals`, { kind, detail }).catch(() => {});
  }

  function watchIntegrity() {
    window.addEventListener("blur", () => signal("focus_lost"));
    document.addEventListener("visibilitychange", () => { if (document.hidden) signal("hidden"); });
    document.addEventListener("paste", (event) => { event.preventDefault(); signal("paste"); });
    const others = new BroadcastChannel(`exam-${state.attemptId}`);   // the same exam open in another tab
    others.onmessage = (event) => { if (event.data === "open") { signal("second_tab"); others.postMessage("here"); } };
    others.postMessage("open");
  }

  // ---- connection and start ----------------------------------------------------------------------------
  function connect() {
    socket = io({ transports: ["websocket", "polling"], auth: { seb: window.sebProof() } });
    socket.on("connect", () => { setOnline(true); resync(); flush(); heartbeat(); loadAnnouncements(); });
    socket.on("monitor", onMonitor);
    socket.on("disconnect", () => flush());
  }

  function keyboard(event) {
    if ($("question").hidden || event.target.tagName === "INPUT" && event.target.type === "text") return;
    if (event.key === "ArrowRight") show(state.index + 1);
    else if (event.key === "ArrowLeft") show(state.index - 1);
    else {
      const n = "abcdefgh".indexOf(event.key.toLowerCase());
      const inputs = document.querySelectorAll("#answers input");
      if (n >= 0 && n < inputs.length) inputs[n].click();
    }
  }

  function fontSize(step) {
    const size = Math.min(26, Math.max(13, (Number(localStorage.getItem("exam-font")) || 16) + step));
    localStorage.setItem("exam-font", size);
    document.documentElement.style.setProperty("--exam-font", `${size}px`);
  }

  async function claim() {
    // Another browser holds the attempt: wait here until the examiner approves the move.
    for (;;) {
      try {
        return await api("POST", `/api/roster/${ENTRY}/attempt`, { client_id: CLIENT });
      } catch (error) {
        if (error.code !== "delivery.other_browser") throw error;
        $("loading").textContent = error.message;
        await new Promise((resolve) => setTimeout(resolve, 5000));
      }
    }
  }

  async function start() {
    const server = await claim();
    state.attemptId = server.attempt_id;
    outbox = await Outbox.open(state.attemptId);
    state.paper = await api("GET", `/api/attempts/${state.attemptId}/paper`);
    syncClock(server);
    state.seq = server.last_seq;
    for (const [itemId, saved] of Object.entries(server.responses)) {
      state.answers[itemId] = { value: saved.value, flagged: saved.flagged };
    }
    for (const op of await outbox.pending()) {       // typed before a reload, not yet acknowledged
      state.answers[op.item_id] = { value: op.value, flagged: op.flagged };
      state.seq = Math.max(state.seq, op.seq);
    }
    $("loading").hidden = true;
    fontSize(0);
    if (["submitted", "voided", "expired"].includes(state.phase)) { showFinished(null, true); return; }
    show(0);
    tick();
    connect();
    watchIntegrity();
    setInterval(tick, 250);
    setInterval(resync, RESYNC_MS);
    setInterval(async () => { pendingCount = (await outbox.pending()).length; heartbeat(); }, HEARTBEAT_MS);
    document.addEventListener("keydown", keyboard);
    $("font-smaller").addEventListener("click", () => fontSize(-2));
    $("font-larger").addEventListener("click", () => fontSize(2));
  }

  function begin() {
    $("loading").hidden = false;
    start().catch((error) => { $("loading").textContent = error.message; });
  }

  const identity = $("identity");   // first entry: the candidate confirms who and where they are, then starts
  if (identity) {
    $("begin").addEventListener("click", () => { identity.hidden = true; begin(); });
  } else {
    begin();
  }
})();
