// The examiner's (and, read-only, the supervisor's) view of one exam session: state, roster, actions.
"use strict";
(() => {
  const root = document.getElementById("session");
  const SESSION = Number(root.dataset.session), CAN_ACT = root.dataset.canAct === "1";
  const CSRF = document.querySelector('meta[name="csrf-token"]').content;
  const M = JSON.parse(document.getElementById("messages").textContent);
  const $ = (id) => document.getElementById(id);

  async function api(method, path, body) {
    const response = await fetch(path, { method, credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": CSRF },
      body: body === undefined ? undefined : JSON.stringify(body) });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(data.error ? data.error.message : response.statusText);
    return data;
  }

  function clock(ms) {
    const s = Math.ceil(ms / 1000);
    return [Math.floor(s / 3600), Math.floor(s / 60) % 60, s % 60].map((n) => String(n).padStart(2, "0")).join(":");
  }

  function cell(text) { const td = document.createElement("td"); td.textContent = text; return td; }

  function button(label, onClick) {
    const b = document.createElement("button");
    b.type = "button"; b.textContent = label; b.addEventListener("click", onClick);
    return b;
  }

  async function act(work) {
    $("session-error").hidden = true;
    try { await work(); } catch (error) { $("session-error").textContent = error.message; $("session-error").hidden = false; }
    refresh();
  }

  function row(entry) {
    const tr = document.createElement("tr");
    const attempt = entry.attempt;
    tr.append(cell(entry.seat), cell(entry.name), cell(entry.ticket_number),
              cell(M.phase[attempt ? attempt.phase : "none"]), cell(attempt ? clock(attempt.remaining_ms) : ""),
              cell(attempt ? attempt.last_seq : ""),
              cell(attempt ? Object.entries(attempt.signals).map(([k, n]) => `${M.signal[k]} ×${n}`).join("，") : ""));
    const actions = document.createElement("td");
    if (CAN_ACT) {
      actions.append(button(M.reset_seat, () => act(() => api("POST", `/api/roster/${entry.roster_entry_id}/seat-delay/reset`))));
      if (attempt && attempt.takeover_waiting) {
        actions.append(button(M.approve_takeover, () => act(() => api("POST", `/api/attempts/${attempt.id}/takeover/approve`))));
      }
      if (attempt && ["active", "paused"].includes(attempt.phase)) {
        actions.append(button(M.add_time, () => act(async () => {
          const minutes = Number(prompt(M.minutes, "5"));
          const reason = prompt(M.reason, "");
          if (!minutes || !reason) return;
          await api("POST", `/api/attempts/${attempt.id}/time`, { seconds: Math.round(minutes * 60), kind: "incident", reason });
        })));
      }
    }
    tr.append(actions);
    return tr;
  }

  async function refresh() {
    try {
      const data = await api("GET", `/api/sessions/${SESSION}`);
      $("session-status").textContent = M.status[data.status];
      document.querySelector("#roster tbody").replaceChildren(...data.roster.map(row));
    } catch (error) { $("session-error").textContent = error.message; $("session-error").hidden = false; }
  }

  const ACTIONS = {
    "check-in": async () => { const data = await api("POST", `/api/sessions/${SESSION}/check-in`);
                              $("pin").textContent = data.pin; $("pin-box").hidden = false; },
    start: () => api("POST", `/api/sessions/${SESSION}/start`),
    pause: async () => { const reason = prompt(M.reason, ""); if (reason) await api("POST", `/api/sessions/${SESSION}/pause`, { reason }); },
    resume: () => api("POST", `/api/sessions/${SESSION}/resume`),
    end: async () => { if (confirm(M.confirm_end)) await api("POST", `/api/sessions/${SESSION}/end`); },
  };
  for (const b of document.querySelectorAll("#session-actions button")) {
    b.addEventListener("click", () => act(ACTIONS[b.dataset.action]));
  }
  refresh();
  setInterval(refresh, 5000);
})();
