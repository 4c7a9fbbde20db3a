/* The leaderboard page: the projection screen (public, frozen during the freeze) or the examiners' live board.
   Loads the board from the JSON feed, then applies the server's `board` diffs from the /board namespace in
   version order; a missed version reloads the feed. The public page scrolls by itself for a large screen. */
(function () {
  "use strict";
  var body = document.body;
  var competitionId = Number(body.dataset.competition);
  var view = body.dataset.view;
  var messages = JSON.parse(document.getElementById("messages").textContent);
  var rows = new Map();
  var rounds = [];
  var version = -1;

  function t(key) { return messages[key] || key; }

  function cell(tr, text, cls) {
    var td = document.createElement("td");
    td.textContent = text;
    if (cls) td.className = cls;
    tr.appendChild(td);
  }

  function renderHead() {
    var head = document.getElementById("standings-head");
    head.querySelectorAll("th.part").forEach(function (th) { th.remove(); });
    var total = head.querySelector("th.total");
    rounds.forEach(function (r) {
      var th = document.createElement("th");
      th.className = "part";
      th.textContent = r.name;
      head.insertBefore(th, total);
    });
  }

  function render() {
    var tbody = document.getElementById("standings-body");
    var ordered = Array.from(rows.values()).sort(function (a, b) {
      return a.rank - b.rank || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) || a.id - b.id;
    });
    var fragment = document.createDocumentFragment();
    ordered.forEach(function (row) {
      var tr = document.createElement("tr");
      tr.id = "entry-" + row.id;
      tr.dataset.rank = row.rank;
      tr.style.borderLeftColor = row.colour;
      cell(tr, String(row.rank), "rank");
      cell(tr, row.bib, "bib");
      cell(tr, row.name, "name");
      var delegation = document.createElement("td");
      delegation.className = "delegation";
      var swatch = document.createElement("span");
      swatch.className = "swatch";
      swatch.style.backgroundColor = row.colour;
      delegation.appendChild(swatch);
      delegation.appendChild(document.createTextNode(row.delegation));
      tr.appendChild(delegation);
      rounds.forEach(function (r) { cell(tr, row.parts[r.key] || "–", "part"); });
      cell(tr, row.total, "total");
      if (row.reason) tr.title = row.reason;
      if (row.flash) tr.classList.add("changed");
      fragment.appendChild(tr);
    });
    tbody.replaceChildren(fragment);
  }

  var freezeAt = null;
  var serverOffsetMs = 0;   /* server clock − this machine's clock, from the feed's Date header */

  var unfrozen = false;

  function showStatus(board) {
    if (board.freeze_at !== undefined) freezeAt = board.freeze_at ? new Date(board.freeze_at).getTime() : null;
    if (board.unfrozen !== undefined) unfrozen = board.unfrozen;
    var now = Date.now() + serverOffsetMs;
    var frozen = view === "public" && freezeAt !== null && !unfrozen && freezeAt <= now;
    document.getElementById("board-frozen").hidden = !frozen;
  }

  function load() {
    return fetch(body.dataset.feed, {credentials: "same-origin"}).then(function (r) {
        var date = Date.parse(r.headers.get("Date") || "");
        if (!isNaN(date)) serverOffsetMs = date - Date.now();
        return r.json();
      })
      .then(function (board) {
        rounds = board.rounds;
        rows = new Map(board.rows.map(function (row) { return [row.id, row]; }));
        version = board.version;
        renderHead();
        render();
        showStatus(board);
        body.dataset.version = String(version);
      });
  }

  function compareKeys(a, b) {
    for (var i = 0; i < a.length; i++) { if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1; }
    return 0;
  }

  /* The server's ranking, redone here from each row's sort key (smaller first; equal keys share a rank), so a
     diff carries only the rows whose scores changed. Names compare by code point, as on the server. */
  function rerank() {
    var ordered = Array.from(rows.values()).sort(function (a, b) {
      return compareKeys(a.key, b.key) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) || a.id - b.id;
    });
    var previous = null, rank = 0;
    ordered.forEach(function (row, index) {
      if (previous === null || compareKeys(previous, row.key) !== 0) { rank = index + 1; previous = row.key; }
      if (row.rank !== rank) row.reason = "";
      row.rank = rank;
    });
  }

  function apply(diff) {
    if (diff.view !== view || diff.competition_id !== competitionId) return;
    if (diff.version <= version) return;
    if (diff.reload || diff.version !== version + 1) { load(); return; }
    rows.forEach(function (row) { row.flash = false; });
    diff.rows.forEach(function (row) { row.flash = true; rows.set(row.id, row); });
    rerank();
    version = diff.version;
    body.dataset.version = String(version);
    render();
    showStatus(diff);
  }

  load();
  setInterval(function () { showStatus({}); }, 5000);   /* the freeze starts by the clock, not by a message */
  var socket = io("/board", {transports: ["websocket"]});
  socket.on("connect", function () {
    document.getElementById("board-offline").hidden = true;
    socket.emit(view === "public" ? "board_join" : "live_join", {competition_id: competitionId}, function (ack) {
      body.dataset.joined = ack && ack.ok ? "yes" : "refused";
      load();   /* anything that changed before the join */
    });
  });
  socket.on("disconnect", function () {
    body.dataset.joined = "";
    document.getElementById("board-offline").hidden = false;
  });
  socket.on("board", apply);

  var reveal = document.getElementById("reveal-next");
  if (reveal) {
    reveal.addEventListener("click", function () {
      var token = document.querySelector("meta[name=csrf-token]").content;
      fetch(body.dataset.reveal, {method: "POST", credentials: "same-origin",
                                  headers: {"X-CSRF-Token": token, "Content-Type": "application/json"}, body: "{}"})
        .then(function (r) { return r.json(); })
        .then(function (step) {
          var out = document.getElementById("reveal-result");
          if (step.error) { out.textContent = step.error.message; return; }
          out.textContent = step.entry_id ? t("board.revealed") + " #" + step.entry_id + ": " + step.from_rank +
            " → " + step.to_rank : t("board.reveal_done");
        });
    });
  }

  /* The hall's screen: scroll down slowly, pause at the end, jump back to the top. */
  if (view === "public") {
    var pauseUntil = Date.now() + 5000;
    setInterval(function () {
      if (Date.now() < pauseUntil) return;
      var atEnd = window.innerHeight + window.scrollY >= document.body.scrollHeight - 2;
      if (atEnd) { pauseUntil = Date.now() + 5000; setTimeout(function () { window.scrollTo(0, 0); }, 4000); return; }
      window.scrollBy(0, 2);
    }, 50);
  }
})();
