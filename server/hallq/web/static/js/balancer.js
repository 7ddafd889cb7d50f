/* The balancer panel of the manager's live hall: shows the mode and auto mode's
   limits and changes them through the API. Another manager's change arrives as
   the event balancer.settings on the page's own connection (HallQ.on). */
(function () {
  "use strict";
  const H = window.HallQ;
  const P = JSON.parse(document.getElementById("balancer-page").textContent);
  const $ = (id) => document.getElementById(id);
  const modes = $("balancer-modes"), form = $("balancer-limits-form");
  let current = null;

  const say = (text, kind) => { $("balancer-message").textContent = text || ""; $("balancer-message").className = "message " + (kind || ""); };

  function render(view) {
    current = view;
    for (const box of modes.querySelectorAll("input[name=balancer-mode]")) box.checked = box.value === view.mode;
    modes.disabled = false;
    $("balancer-panel").dataset.mode = view.mode;
    $("balancer-help").textContent = P.help[view.mode] || "";
    const who = view.updated_by === "hall file" ? P.hall_file : view.updated_by;
    $("balancer-status").textContent = view.updated_at
      ? H.format(P.status, { mode: P.mode_names[view.mode] || view.mode, who: who || "—", when: new Date(view.updated_at).toLocaleString(document.documentElement.lang || undefined) })
      : "";
    const q = view.qualified || {};
    $("balancer-unqualified").hidden = view.mode === "off" || (q.staff || 0) + (q.windows || 0) > 0;
    for (const [name, value] of Object.entries(view.limits || {})) {
      const input = form.elements[name];
      if (input && document.activeElement !== input) input.value = value;
    }
  }

  async function load() {
    const r = await H.api("GET", P.api);
    if (r.ok) render(r.data); else say(H.errorText(r.data.error), "error");
  }

  async function change(body) {
    modes.disabled = true;
    const r = await H.api("PATCH", P.api, body);
    if (r.ok) { render(r.data); say(P.saved, "ok"); }
    else { say(H.errorText(r.data.error), "error"); if (current) render(current); else modes.disabled = false; }
  }

  modes.addEventListener("change", (e) => { if (e.target.name === "balancer-mode") change({ mode: e.target.value }); });
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const limits = {};
    for (const name of Object.keys((current && current.limits) || {})) limits[name] = Number(form.elements[name].value);
    change({ limits });
  });

  load();
  H.on("snapshot", load);  // every reconnect: what may have changed meanwhile
  H.on("event", (e) => { if (e.kind === "balancer.settings") load(); });
})();
