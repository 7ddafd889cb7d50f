/* The manager's live hall. Windows and queues arrive over Socket.IO; alerts,
   trends and the waiting list are re-read after each change (never on a timer). */
(function () {
  "use strict";
  const H = window.HallQ, T = H.T, el = H.el;
  const page = JSON.parse(document.getElementById("page").textContent);
  const services = page.services, byCode = Object.fromEntries(services.map((s) => [s.code, s]));
  const windows = new Map();
  let queue = [], extra = { alerts: [], trends: {}, waiting: [], devices: { devices: [] } };
  const $ = (id) => document.getElementById(id);
  const say = (text, kind) => { $("message").textContent = text || ""; $("message").className = "message " + (kind || ""); };

  function offlineWindows() {
    const out = new Set();
    for (const d of (extra.devices && extra.devices.devices) || []) if (d.online === false && d.window) out.add(d.window);
    return out;
  }

  // A device event carries the device's whole view: the window tile changes at
  // once, and the alerts follow when the hall's state has been read again.
  function patchDevice(d) {
    if (!d || !d.device) return;
    const list = (extra.devices && extra.devices.devices) || [];
    const i = list.findIndex((x) => x.device === d.device);
    if (d.revoked) { if (i >= 0) list.splice(i, 1); } else if (i >= 0) list[i] = d; else list.push(d);
    extra.devices = { ...(extra.devices || {}), devices: list };
    renderMap();
  }

  function renderMap() {
    const offline = offlineWindows();
    const maps = {};
    for (const m of document.querySelectorAll(".window-map")) { maps[m.dataset.zone] = m; m.replaceChildren(); }
    let loose = 0;
    for (const w of [...windows.values()].sort((a, b) => a.number - b.number)) {
      const zone = w.zone in maps ? w.zone : "";
      if (!zone) loose++;
      const state = offline.has(w.number) ? "offline" : w.state;
      maps[zone].append(el("div", { class: "window-card state-" + state, id: "window-" + w.number, "data-state": w.state },
        el("div", { class: "wnum", text: String(w.number) }),
        el("div", { class: "wname", text: w.name }),
        el("div", { class: "wstate", text: T.state[state] + (w.pause_reason ? " · " + w.pause_reason : "") }),
        el("div", { class: "wticket", text: w.ticket ? w.ticket.number : "" }),
        el("div", { class: "wstaff", text: w.staff ? w.staff.name + (w.staff.staff_no ? " (" + w.staff.staff_no + ")" : "") : "" }),
        el("div", { class: "wtime", "data-since": w.since || "", text: w.since ? H.clockText(w.since) : "" })));
    }
    document.querySelector(".no-zone").hidden = loose === 0;
  }

  function renderQueue() {
    const byPrefix = [...queue].sort((a, b) => (a.prefix < b.prefix ? -1 : a.prefix > b.prefix ? 1 : 0));
    $("queue-rows").replaceChildren(...byPrefix.map((q) => {
      const t = extra.trends[q.service] || {};
      const arrow = { rising: "↑", falling: "↓", steady: "→" }[t.trend] || "";
      return el("tr", { "data-service": q.service },
        el("td", { text: q.prefix + " · " + H.localName(q) }),
        el("td", { class: "num", text: String(q.waiting) }),
        el("td", { text: H.minutesText(q.oldest_wait_minutes) }),
        el("td", { text: H.minutesText(q.estimated_wait_minutes) }),
        el("td", { class: "num", text: String(q.open_windows) }),
        el("td", { class: "trend-" + (t.trend || ""), title: t.issued !== undefined ? `+${t.issued} / −${t.called}` : "", text: arrow ? arrow + " " + T.trend[t.trend] : "" }));
    }));
  }

  function renderSkills() {
    const rows = [...windows.values()].sort((a, b) => a.number - b.number).map((w) => {
      const served = Object.fromEntries(w.services.map((s) => [s.code, s.weight]));
      const cells = services.map((s) => el("td", {},
        el("input", { type: "checkbox", "aria-label": H.format(T.labels.window, { number: w.number }) + " " + s.code,
          "data-window": w.number, "data-service": s.code, checked: s.code in served,
          onchange: () => saveServices(w.number) })));
      const toggle = w.state === "closed"
        ? el("button", { text: T.labels.open, "data-open": w.number, onclick: () => windowAction(w.number, "open") })
        : el("button", { text: T.labels.close, "data-close": w.number, disabled: w.state !== "idle" && w.state !== "paused", onclick: () => windowAction(w.number, "close") });
      return el("tr", { "data-window": w.number }, el("th", { text: w.number + " " + w.name }), ...cells, el("td", {}, toggle));
    });
    $("skills-rows").replaceChildren(...rows);
  }

  function renderAlerts() {
    const items = extra.alerts.map((a) => {
      const name = byCode[a.service] ? H.localName(byCode[a.service]) : a.service;
      const text = {
        long_wait: () => H.format(T.alert_wait, { service: name, minutes: Math.round(a.minutes), limit: Math.round(a.limit) }),
        idle_window: () => H.format(T.alert_idle, { window: a.window, service: name, waiting: a.waiting }),
        device_offline: () => H.format(T.alert_device, { device: a.device }),
        paper_out: () => H.format(T.alert_paper, { device: a.device }),
        cases_overdue: () => H.format(T.alert_cases_overdue, { n: a.count }),
        cases_due_soon: () => H.format(T.alert_cases_due_soon, { n: a.count }),
        callbacks_late: () => H.format(T.alert_callbacks_late, { n: a.count }),
      }[a.kind];
      const item = el("li", { class: "alert " + a.kind, text: text ? text() : a.kind });
      if (a.kind.startsWith("cases_") || a.kind === "callbacks_late") {  // to the cases list, filtered
        return el("li", { class: "alert " + a.kind }, el("a", { href: page.cases + "#" + a.kind, text: item.textContent }));
      }
      return item;
    });
    $("alerts").replaceChildren(...(items.length ? items : [el("li", { class: "calm", text: T.no_alerts })]));
  }

  // The waiting list is redrawn after every live update. A row is updated in
  // place, never replaced: replacing a <select> closes it under the manager's
  // finger and resets what they chose, and the button then moved the ticket to
  // the first service in the list. What each row's select was set to is kept
  // here, by ticket number, until the ticket leaves the list.
  const chosenTarget = new Map();

  function targetSelect(t) {
    const select = el("select", { "aria-label": T.labels.move + " " + t.number, "data-ticket": t.number, "data-from": t.service,
      onchange: () => chosenTarget.set(t.number, select.value) },
      ...services.filter((s) => s.code !== t.service).map((s) => el("option", { value: s.code, text: s.prefix + " · " + H.localName(s) })));
    const kept = chosenTarget.get(t.number);
    if (kept && kept !== t.service) select.value = kept; else chosenTarget.delete(t.number);
    return select;
  }

  function waitingRow(t) {
    const row = el("tr", { "data-ticket": t.number, "data-id": t.id },
      el("td", { text: t.number }), el("td", { class: "service" }), el("td", { class: "priority" }), el("td", { class: "waited" }),
      el("td", { class: "move" }, targetSelect(t), el("button", { text: T.labels.move, onclick: () => moveFrom(row) })));
    return row;
  }

  function updateRow(row, t) {
    row.dataset.id = t.id;
    row.querySelector(".service").textContent = byCode[t.service] ? H.localName(byCode[t.service]) : t.service;
    row.querySelector(".priority").textContent = T.priority[t.priority] || t.priority;
    row.querySelector(".waited").textContent = H.minutesText(t.waited_minutes);
    const select = row.querySelector("select");
    // Someone else moved the ticket: its choices change, unless the manager is in the select right now.
    if (select.dataset.from !== t.service && document.activeElement !== select) select.replaceWith(targetSelect(t));
  }

  function renderWaiting() {
    const body = $("waiting-rows");
    const rows = new Map([...body.children].map((r) => [r.dataset.ticket, r]));
    const wanted = extra.waiting.map((t) => {
      const row = rows.get(t.number) || waitingRow(t);
      updateRow(row, t);
      rows.delete(t.number);
      return row;
    });
    for (const [number, row] of rows) { chosenTarget.delete(number); row.remove(); }
    // Insert only what is out of place: moving a row detaches it, and a row that stays put keeps its focus.
    wanted.forEach((row, i) => { if (body.children[i] !== row) body.insertBefore(row, body.children[i] || null); });
  }

  async function refreshExtra() {
    const r = await H.api("GET", page.state);
    if (!r.ok) return;
    extra = r.data;
    renderAlerts(); renderQueue(); renderWaiting(); renderMap();
  }
  let pending = null;
  // Suggestions are pushed when they change (the `suggestions` handler below); only the snapshot reads them.
  function refreshSoon() { if (!pending) pending = setTimeout(() => { pending = null; refreshExtra(); }, 250); }

  async function refreshSuggestions() {
    const r = await H.api("GET", page.suggestions);
    if (!r.ok) return;
    renderSuggestions(r.data);
  }
  function renderSuggestions(data) {
    const list = $("suggestions");
    if (!data.available) { list.replaceChildren(el("li", { class: "calm", text: T.suggestions_unavailable })); return; }
    const items = (data.suggestions || []).map((s) => el("li", { class: "suggestion", "data-suggestion": s.id },
      el("span", { text: (H.english && s.reason_en) || s.reason || s.kind + " " + s.service }), " ",
      el("button", { class: "primary", text: T.apply, onclick: () => applySuggestion(s) })));
    list.replaceChildren(...(items.length ? items : [el("li", { class: "calm", text: T.no_suggestions })]));
  }

  async function applySuggestion(s) {
    const r = await H.api("POST", `${page.suggestions}/${s.id}/apply`, {});
    if (r.ok) say(T.saved, "ok"); else say(H.errorText(r.data.error), "error");
    refreshSuggestions();
  }

  async function saveServices(number) {
    const w = windows.get(number);
    const weights = Object.fromEntries(w.services.map((s) => [s.code, s.weight]));
    const chosen = {};
    for (const box of document.querySelectorAll(`input[data-window="${number}"]`)) if (box.checked) chosen[box.dataset.service] = weights[box.dataset.service] || 1;
    const r = await H.api("PUT", `${page.api}/${number}/services`, { services: chosen });
    if (r.ok) { windows.set(number, r.data); say(T.saved, "ok"); } else { say(H.errorText(r.data.error), "error"); renderSkills(); }
  }

  async function windowAction(number, action) {
    if (action === "close" && !window.confirm(T.confirm_close)) return;
    const r = await H.api("POST", `${page.api}/${number}/${action}`, {});
    if (r.ok) { windows.set(number, r.data); renderSkills(); renderMap(); say(T.saved, "ok"); } else say(H.errorText(r.data.error), "error");
  }

  // The ticket and its target are read from one row, and the server checks the number against the id.
  async function moveFrom(row) {
    const number = row.dataset.ticket, code = row.querySelector("select").value;
    const r = await H.api("POST", `${page.tickets}/${row.dataset.id}/move`, { service: code, number });
    if (r.ok) { chosenTarget.delete(number); say(H.format(T.moved, { number, service: H.localName(byCode[code]) }), "ok"); }
    else say(H.errorText(r.data.error), "error");
  }

  setInterval(() => { for (const t of document.querySelectorAll(".wtime[data-since]")) if (t.dataset.since) t.textContent = H.clockText(t.dataset.since); }, 1000);

  H.connect({ hall: page.hall, manager: true }, {
    snapshot(s) {
      windows.clear();
      for (const w of s.windows) windows.set(w.number, w);
      queue = s.queue;
      renderMap(); renderQueue(); renderSkills();
      refreshExtra(); refreshSuggestions();
    },
    event(e) {
      const ws = e.data && e.data.window_state;
      if (ws) {
        const old = windows.get(ws.number);
        if (!old || ws.version >= old.version) {
          windows.set(ws.number, ws);
          renderMap();
          if (!old || old.state !== ws.state || JSON.stringify(old.services) !== JSON.stringify(ws.services)) renderSkills();
        }
      }
      if (e.kind.startsWith("device.")) { patchDevice(e.data.device); refreshSoon(); }
      if (e.kind.startsWith("case.")) refreshSoon();  // the alerts count bad-rating cases
      if (e.kind === "hall.configured") window.location.reload();
    },
    queue(q) { queue = q.services; renderQueue(); refreshSoon(); },
    suggestions(data) { renderSuggestions(data); },
  });
})();
