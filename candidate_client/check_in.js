"use strict";
(() => {
  const form = document.getElementById("check-in-form");
  const error = document.getElementById("check-in-error");
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = Object.fromEntries(new FormData(form).entries());
    const response = await fetch("/api/check-in", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf, ...window.sebHeaders() },
      body: JSON.stringify(body),
    });
    const data = await response.json();
    if (response.ok) {
      location.assign(`/exam/${data.roster_entry_id}`);
    } else {
      error.textContent = data.error.message;
      error.hidden = false;
    }
  });
})();
