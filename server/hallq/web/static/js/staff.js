/* The staff window terminal: every action is one REST call; the screen follows
   the window's own events (window_state) and the hall's queue summaries. */
(function () {
  "use strict";
  const H = window.HallQ, T = H.T;
  const page = JSON.parse(document.getElementById("page").textContent);
  const names = Object.fromEntries(page.services.map((s) => [s.code, s]));
  let view = null, queue = [], busy = false;
  const $ = (id) => document.getElementById(id);

  for (const reason of T.pause_reasons || []) $("pause-reasons").append(H.el("option", { value: reason }));

  function say(text, kind) {
    const m = $("message");
    m.textContent = text || "";
    m.className = "message " + (kind || "");
  }

  const ENABLED = {
    closed: ["open"],
    idle: ["call-next", "pause", "close"],
    paused: ["resume", "close"],
    called: ["recall", "start", "complete", "skip", "transfer"],
    serving: ["complete", "transfer"],
  };

  function render() {
    if (!view) return;
    const t = view.ticket;
    const phase = view.state === "serving" && t ? t.status : view.state;
    const allowed = ENABLED[phase] || [];
    for (const b of document.querySelectorAll("button[data-action]")) {
      b.disabled = busy || !allowed.includes(b.dataset.action);
      b.hidden = b.dataset.action === "open" && view.state !== "closed";
    }
    $("state").textContent = T.state[view.state] || view.state;
    $("state").className = "badge state-" + view.state;
    $("pause-reason").textContent = view.pause_reason || "";
    $("ticket-number").textContent = t ? t.number : "—";
    $("ticket-info").textContent = t ? [H.localName(names[t.service]), T.ticket_status[t.status], t.priority !== "normal" ? T.priority[t.priority] : ""].filter(Boolean).join(" · ") : "";
    renderQueues();
    tick();
  }

  function renderQueues() {
    if (!view) return;
    const mine = new Set(view.services.map((s) => s.code));
    const body = $("my-queues");
    body.replaceChildren(
      ...queue.filter((q) => mine.has(q.service)).map((q) =>
        H.el("tr", { "data-service": q.service },
          H.el("td", { text: q.prefix + " · " + H.localName(q) }),
          H.el("td", { class: "num", text: String(q.waiting) }),
          H.el("td", { text: H.minutesText(q.oldest_wait_minutes) }),
          H.el("td", { text: H.minutesText(q.estimated_wait_minutes) })))
    );
  }

  function tick() {
    if (!view) return;
    const t = view.ticket;
    $("served-for").textContent = t ? H.clockText(t.started_at || t.called_at) : "—";
    $("state-time").textContent = view.since ? H.clockText(view.since) : "";
  }
  setInterval(tick, 1000);

  async function loadFigures() {
    const r = await H.api("GET", page.figures);
    if (!r.ok) return;
    const f = r.data;
    $("fig-served").textContent = f.served;
    $("fig-no-show").textContent = f.no_show;
    $("fig-mean").textContent = H.minutesText(f.mean_handling_minutes);
    const rv = f.reviews;
    $("fig-reviews").textContent = !rv ? T.none : rv.count === 0 ? "0" : H.format(T.reviews_text, { count: rv.count, mean: rv.mean_score, bad: rv.bad });
    const m = f.month;
    if (m) {
      $("month-cases").textContent = m.cases;
      $("month-handling").textContent = H.minutesText(m.handling_mean);
      $("month-satisfaction").textContent = m.satisfaction_rate === null ? T.none : (m.satisfaction_rate * 100).toFixed(1) + "%";
      $("month-bad").textContent = m.bad_reviews;
    }
  }

  async function act(action) {
    if (busy) return;
    const body = {};
    if (action === "transfer") {
      body.service = $("transfer-service").value;
      if (!body.service) { $("transfer-service").focus(); return; }
    }
    if (action === "pause") {
      body.reason = $("pause-reason-input").value.trim();
      if (!body.reason) { $("pause-reason-input").focus(); say(T.errors.reason_required, "error"); return; }
    }
    if (action === "close" && !window.confirm(T.confirm_close)) return;
    busy = true; render();
    const r = await H.api("POST", page.api + "/" + action, body);
    busy = false;
    if (r.ok) {
      view = r.data;
      say(action === "call-next" || action === "recall" ? H.format(T.called_to, { number: view.ticket ? view.ticket.number : "", window: page.window }) : "", "ok");
      if (action === "close") { window.location = page.choose; return; }
      loadFigures();
    } else {
      say(H.errorText(r.data.error), "error");
    }
    render();
  }

  for (const b of document.querySelectorAll("button[data-action]")) b.addEventListener("click", () => act(b.dataset.action));

  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.altKey || e.metaKey) return;
    const tag = (e.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "select" || tag === "textarea") {
      if (e.key === "Escape") e.target.blur();
      return;
    }
    const key = e.key === " " ? "n" : e.key.toLowerCase();
    const button = document.querySelector(`button[data-key="${key}"]`);
    if (button && !button.disabled && !button.hidden) { e.preventDefault(); act(button.dataset.action); }
  });

  H.connect({ hall: page.hall, window: page.window }, {
    snapshot(s) { view = s.window; queue = s.queue; render(); loadFigures(); },
    event(e) {
      if (e.window === page.window && e.data && e.data.window_state) {
        if (!view || e.data.window_state.version >= view.version) { view = e.data.window_state; render(); }
      }
      if (e.window === page.window && (e.kind === "ticket.completed" || e.kind === "review.recorded")) loadFigures();
    },
    queue(q) { queue = q.services; renderQueues(); },
    error(err) { say(H.errorText(err), "error"); },
  });
})();
