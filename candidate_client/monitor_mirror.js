// The read-only mirror of one practical candidate's machine in the dashboard's detail view: the candidate's own
// CNC screen (practical/cnc_screen.js) drawn from the server's machine session, a snapshot and then every update
// the server applied, in seq order (the Socket.IO `mirror` event, after `monitor_mirror`). It sends nothing to the
// machine: the link's send is a no-op, and the server accepts machine events only from the candidate anyway.
// session.js drives it through window.monitorMirror.show(attemptId) / hide(), on its socket (window.monitorSocket).
import { MachineLink } from "/client/practical/connection.js";
import { CncScreen } from "/client/practical/cnc_screen.js";
import { translator } from "/client/practical/labels.js";

const $ = (id) => document.getElementById(id);
const label = translator(document.documentElement.lang.startsWith("zh") ? "zh" : "en");
const PAGES = ["pos", "prog", "ofs", "msg", "graph"];

async function get(path) {
  const response = await fetch(path, { credentials: "same-origin" });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.error ? data.error.message : response.statusText);
  return data;
}

class MirrorLink extends MachineLink {
  constructor(attemptId) { super({ attemptId, clientId: "", csrf: "", api: (method, path) => get(path) }); }

  machineUrl() { return `/api/attempts/${this.attemptId}/machine/mirror`; }

  async load() { this.adopt(await get(this.machineUrl())); }

  send() {}            // read only: no key of the mirrored screen reaches the machine

  watchPlanEnd() {}    // the candidate's page settles a run, never the mirror

  /** One update the server applied; one missed (a gap in seq) reloads the snapshot. */
  receive(message) {
    if (!this.view || message.attempt_id !== this.attemptId || message.seq <= this.acked) return;
    if (message.seq !== this.acked + 1) { this.load(); return; }
    this.seq = this.acked = message.seq;
    this.applyUpdate(message.update, message.event);
    if (this.needView) { this.needView = false; this.load(); }
  }
}

let current = null;

function socket() { return window.monitorSocket; }

function pageButtons(screen) {
  $("mirror-pages").replaceChildren(...PAGES.map((page) => {
    const b = Object.assign(document.createElement("button"), { type: "button", textContent: label(`screen.${page}`) });
    b.dataset.page = page;
    b.addEventListener("click", () => screen.showPage(page));
    return b;
  }));
}

async function show(attemptId) {
  if (current && current.attemptId === attemptId) return;
  const link = new MirrorLink(attemptId);
  current = link;
  socket().emit("monitor_mirror", { attempt_id: attemptId });      // join first: no update falls between
  const screen = new CncScreen($("mirror-screen"), link, label);
  pageButtons(screen);
  try {
    await link.load();
    $("detail-mirror").hidden = false;
    $("mirror-screen").dataset.attempt = String(attemptId);
  } catch (error) {
    $("mirror-error").textContent = error.message;
  }
}

function hide() {
  if (!current) return;
  current = null;
  socket().emit("monitor_mirror", { attempt_id: null });
  $("detail-mirror").hidden = true;
}

if ($("detail-mirror") && socket()) {
  socket().on("mirror", (message) => { if (current) current.receive(message); });
  socket().on("connect", () => {            // back after a reconnect: watch again, from a fresh snapshot
    if (!current) return;
    socket().emit("monitor_mirror", { attempt_id: current.attemptId });
    current.load();
  });
  window.monitorMirror = { show, hide };
}
