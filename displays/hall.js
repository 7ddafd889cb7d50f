/* The hall screen: latest calls (newest highlighted and flashing), waiting per service, a notice line. */
(function () {
  "use strict";
  const D = window.Display, T = D.T, $ = (id) => document.getElementById(id);
  const hall = D.params.get("hall");
  const layout = D.params.get("layout");
  if (layout === "portrait") document.body.classList.add("portrait");
  if (layout === "landscape") document.body.classList.add("landscape");
  const MAX_CALLS = layout === "portrait" || (!layout && window.innerHeight > window.innerWidth) ? 9 : 6;
  $("t-latest").textContent = T.latest;
  $("t-waiting").textContent = T.waiting;
  $("notice").textContent = D.params.get("notice") || T.notice;
  const setClockZone = D.clock($("clock"));
  if (!hall) { D.fail(T.noHall); return; }

  let calls = [];  // {number, window, at}
  let flashing = null;

  /* Rows that would run past their section are not drawn half-cut: the oldest calls go, and
     the queue (every service must stay on screen) gets smaller type instead. */
  function overflows(el) {
    const box = el.closest("section").getBoundingClientRect();
    const last = el.lastElementChild || el;
    return last.getBoundingClientRect().bottom > box.bottom + 0.5;
  }

  function fitCalls() {
    const list = $("calls");
    while (list.children.length > 1 && overflows(list)) list.lastElementChild.remove();
  }

  function fitQueue() {
    const table = $("queue").closest("table");
    table.style.fontSize = "";
    let size = parseFloat(getComputedStyle(table).fontSize);
    const smallest = size / 2;
    while (overflows($("queue")) && size > smallest) {
      size *= 0.92;
      table.style.fontSize = size + "px";
    }
  }

  function renderCalls() {
    const list = $("calls");
    list.replaceChildren(...calls.slice(0, MAX_CALLS).map((c, i) => {
      const li = document.createElement("li");
      li.dataset.number = c.number;
      if (i === 0) li.className = "newest" + (flashing === c.number ? " flash" : "");
      const n = document.createElement("span"); n.className = "num"; n.textContent = c.number;
      const to = document.createElement("span"); to.className = "to"; to.textContent = D.format(T.windowNo, { n: c.window });
      li.append(n, to);
      return li;
    }));
    fitCalls();
  }

  let lastQueue = [];
  function renderQueue(services) {
    lastQueue = services;
    const byPrefix = [...services].sort((a, b) => (a.prefix < b.prefix ? -1 : a.prefix > b.prefix ? 1 : 0));
    $("queue").replaceChildren(...byPrefix.map((q) => {
      const tr = document.createElement("tr");
      tr.dataset.service = q.service;
      const name = document.createElement("td");
      const prefix = document.createElement("span"); prefix.className = "prefix"; prefix.textContent = q.prefix;
      name.append(prefix, D.name(q));
      const n = document.createElement("td"); n.className = "n"; n.textContent = q.waiting + (T.people ? " " + T.people : "");
      tr.append(name, n);
      return tr;
    }));
    fitQueue();
    fitCalls();  // in portrait the queue's height sets the room left for the calls
  }

  window.addEventListener("resize", () => { renderQueue(lastQueue); renderCalls(); });

  function called(number, windowNumber, at) {
    calls = [{ number, window: windowNumber, at }, ...calls.filter((c) => c.number !== number)].slice(0, 20);
    flashing = number;
    renderCalls();
    setTimeout(() => { if (flashing === number) { flashing = null; renderCalls(); } }, 6000);
    D.announce(number, windowNumber);
  }

  D.connect({ hall }, {
    snapshot(s) {
      $("hall-name").textContent = D.name(s.hall);
      setClockZone(s.hall && s.hall.timezone);
      document.title = D.name(s.hall);
      // Rebuild from the windows (the tickets now at a window), the edge agent's recent
      // calls when it sends them, and the calls this page saw before a reconnect.
      const fresh = s.windows.filter((w) => w.ticket && w.ticket.called_at)
        .map((w) => ({ number: w.ticket.number, window: w.number, at: w.ticket.called_at }));
      for (const c of s.calls || []) {
        if (c && typeof c.number === "string" && typeof c.window === "number") fresh.push({ number: c.number, window: c.window, at: c.at || "" });
      }
      const newest = new Map();
      for (const c of [...fresh, ...calls]) {
        const seen = newest.get(c.number);
        if (!seen || c.at > seen.at) newest.set(c.number, c);
      }
      calls = [...newest.values()].sort((a, b) => (a.at < b.at ? 1 : -1)).slice(0, 20);
      renderCalls();
      renderQueue(s.queue);
    },
    event(e) {
      if (e.kind === "ticket.called" || e.kind === "ticket.recalled") called(e.data.number, e.window, e.at);
    },
    queue(q) { renderQueue(q.services); },
    error() { D.fail(T.unknown); },
  });
})();
