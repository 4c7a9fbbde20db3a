// The practical exam page: claims the attempt (as the theory exam does), loads the machine from the server and
// wires the CNC screen, keypad, operator panel, 3D view, drawing and instruments to the machine link.
import { translator } from "./labels.js";
import { MachineLink, newOpId } from "./connection.js";
import { CncScreen } from "./cnc_screen.js";
import { Keypad } from "./keypad.js";
import { OperatorPanel } from "./panel.js";
import { View3D } from "./view3d.js";
import { DrawingPanel } from "./drawing.js";
import { InstrumentsPanel } from "./instruments.js";

const $ = (id) => document.getElementById(id);
const CSRF = document.querySelector('meta[name="csrf-token"]').content;
const ENTRY = Number(document.body.dataset.entry);
const RESYNC_MS = 30000;
const language = localStorage.getItem("practical-language") || (document.documentElement.lang.startsWith("zh") ? "zh" : "en");
const label = translator(language);
const CLIENT = sessionStorage.getItem("exam-client") || newOpId();   // this tab's id survives reloads
sessionStorage.setItem("exam-client", CLIENT);
const clock = { remainingMs: 0, syncedAt: 0, phase: "active" };

async function api(method, path, body) {
  const response = await fetch(path, {
    method, credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": CSRF, ...window.sebHeaders() },   // seb.js
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw Object.assign(new Error(data.error ? data.error.message : response.statusText),
                        { status: response.status, code: data.error && data.error.code });
  }
  return data;
}

async function claim() {
  for (;;) {     // another browser holds the attempt: wait until the examiner approves the move
    try {
      return await api("POST", `/api/roster/${ENTRY}/attempt`, { client_id: CLIENT });
    } catch (error) {
      if (error.code !== "delivery.other_browser") throw error;
      $("loading").textContent = error.message;
      await new Promise((resolve) => setTimeout(resolve, 5000));
    }
  }
}

function syncClock(server) {
  if (!server || server.remaining_ms === undefined) return;
  clock.remainingMs = server.remaining_ms;
  clock.syncedAt = performance.now();
  clock.phase = server.phase || clock.phase;
}

function tick(finish) {
  const ms = clock.phase === "paused" ? clock.remainingMs : Math.max(0, clock.remainingMs - (performance.now() - clock.syncedAt));
  const s = Math.ceil(ms / 1000);
  $("timer").textContent = [Math.floor(s / 3600), Math.floor(s / 60) % 60, s % 60].map((n) => String(n).padStart(2, "0")).join(":");
  if (ms <= 0 && clock.syncedAt) finish(true);
}

function showStatus(view, reply) {
  if (reply.type === "online") $("offline").hidden = reply.online;
  if (reply.type === "pending") $("save-status").dataset.count = reply.count;
  if (reply.type === "pending") $("save-status").textContent = reply.count ? label("ui.pending", { count: reply.count }) : label("ui.saved");
  if (reply.type === "closed") showFinished(reply.message);
}

function showFinished(text) {
  $("machine").hidden = true;
  $("confirm").hidden = true;
  $("submit").hidden = true;
  $("receipt").hidden = false;
  $("receipt").replaceChildren(Object.assign(document.createElement("h2"), { id: "receipt-title", textContent: label("ui.submitted") }),
                               Object.assign(document.createElement("p"), { id: "receipt-text", textContent: text || "" }));
}

function submitting(link) {
  let done = false;
  return async (timeUp) => {
    if (done) return;
    done = true;
    while (link.flushing) await new Promise((resolve) => setTimeout(resolve, 50));
    await link.flush();               // every operation goes in before the submission
    link.stopped = true;
    try {
      const receipt = await api("POST", `/api/attempts/${link.attemptId}/submit`, { client_id: CLIENT });
      showFinished(receipt.hash || receipt.receipt_hash || "");
    } catch (error) {
      showFinished(timeUp ? "" : error.message);
    }
  };
}

function wireSubmit(finish) {
  $("submit").addEventListener("click", () => { $("confirm").hidden = false; });
  $("confirm-no").addEventListener("click", () => { $("confirm").hidden = true; });
  $("confirm-yes").addEventListener("click", () => finish(false));
  $("language").addEventListener("click", () => {
    localStorage.setItem("practical-language", language === "zh" ? "en" : "zh");
    location.reload();
  });
}

function applyLabels() {
  for (const node of document.querySelectorAll("[data-label]")) node.textContent = label(node.dataset.label);
}

async function start() {
  applyLabels();
  const state = await claim();
  syncClock(state);
  const link = new MachineLink({ attemptId: state.attempt_id, clientId: CLIENT, csrf: CSRF, api });
  link.on(showStatus);
  const data = await link.load();
  syncClock(data.clock);
  $("machine-name").textContent = `${label(link.machineType === "mill" ? "ui.mill" : "ui.lathe")} · ${data.task.title || ""}`;
  const screen = new CncScreen($("cnc-screen"), link, label);
  const practical = {
    link, screen, label,
    keypad: new Keypad($("keypad"), screen, label),
    panel: new OperatorPanel($("operator-panel"), link, label),
    view3d: new View3D($("view3d"), link, label),
    drawing: new DrawingPanel($("drawing"), data.task.drawing_url || `/api/attempts/${link.attemptId}/machine/drawing`, label),
    instruments: new InstrumentsPanel($("instruments"), link, label),
  };
  window.practical = practical;
  link.notify({ type: "view", view: true });
  $("loading").hidden = true;
  $("machine").hidden = false;
  practical.view3d.resize();
  if (["submitted", "voided", "expired"].includes(clock.phase)) { showFinished(""); return; }
  const finish = submitting(link);
  wireSubmit(finish);
  link.connect();
  link.flush();
  setInterval(() => tick(finish), 250);
  const resync = async () => {
    try { syncClock(await api("GET", `/api/attempts/${link.attemptId}?client_id=${CLIENT}`)); } catch (error) { /* offline */ }
  };
  link.socket.on("monitor", (event) => { if (event.kind !== "announcement") resync(); });  // time, pause, end by the examiner
  setInterval(resync, RESYNC_MS);
  document.body.dataset.ready = "1";
}

function begin() {
  $("loading").hidden = false;
  start().catch((error) => { $("loading").textContent = error.message; console.error(error); });   // eslint-disable-line no-console
}

// First entry: the candidate confirms who and where they are, and the attempt (and its clock) starts then.
if ($("identity")) {
  applyLabels();
  $("begin").addEventListener("click", () => { $("identity").hidden = true; begin(); });
} else {
  begin();
}
