/* The managers' bad-review cases (差评整改): the list by filter, re-read whenever a case opens or
   changes (the hall's manager room), with a note when a new one arrives. */
(function () {
  "use strict";
  const H = window.HallQ, el = H.el;
  const page = JSON.parse(document.getElementById("page").textContent);
  const S = JSON.parse(document.getElementById("case-strings").textContent);
  const $ = (id) => document.getElementById(id);
  // The live hall's alerts link here with the filter they mean (#cases_overdue …).
  const FROM_ALERT = { "#cases_overdue": "overdue", "#cases_due_soon": "due_soon", "#callbacks_late": "callback_late" };
  let filter = FROM_ALERT[window.location.hash] || "open", pending = null;

  function flagText(c) {
    const f = c.flags, out = [];
    if (f.overdue) out.push(el("span", { class: "flag overdue", text: S.flag.overdue }));
    else if (f.due_soon) out.push(el("span", { class: "flag due-soon", text: S.flag.due_soon }));
    if (f.callback_late) out.push(el("span", { class: "flag callback-late", text: S.flag.callback_late }));
    if (f.on_time === false) out.push(el("span", { class: "flag late", text: S.flag.late }));
    if (c.appeal) out.push(el("span", { class: "flag appeal", text: S.appeal[c.appeal.state] }));
    return out;
  }

  function row(c) {
    const r = c.review;
    const link = el("a", { href: page.case_url.replace(/\/0$/, "/" + c.id), text: "#" + c.id });
    return el("tr", { "data-case": c.id, class: c.flags.overdue ? "overdue" : c.flags.due_soon ? "due-soon" : null },
      el("td", {}, link), el("td", { text: r.number }),
      el("td", { text: H.localName({ name: r.service_name, name_en: r.service_name_en }) }),
      el("td", { text: r.window }), el("td", { text: r.staff || "—" }),
      el("td", { class: "level-" + r.score, text: H.english ? r.level_en : r.level }),
      el("td", { text: r.reasons.join("、") || "—" }),
      el("td", { text: c.callback_due }), el("td", { text: c.due }),
      el("td", {}, el("span", { class: "badge case-state", "data-state": c.state, text: S.state[c.state] }), " ", ...flagText(c)));
  }

  async function reload() {
    const r = await H.api("GET", page.api + "?filter=" + encodeURIComponent(filter));
    if (!r.ok) { $("case-error").textContent = H.errorText(r.data.error); return; }
    $("case-error").textContent = "";
    for (const [f, n] of Object.entries(r.data.counts)) {
      const span = document.querySelector('[data-count="' + f + '"]');
      if (span) span.textContent = n;
    }
    $("case-rows").replaceChildren(...r.data.cases.map(row));
    $("no-cases").hidden = r.data.cases.length > 0;
  }
  const reloadSoon = () => { if (!pending) pending = setTimeout(() => { pending = null; reload(); }, 150); };

  function choose(b) {
    filter = b.dataset.filter;
    for (const other of document.querySelectorAll("#case-filters button")) {
      other.classList.toggle("current", other === b);
      other.setAttribute("aria-pressed", other === b ? "true" : "false");
    }
  }
  for (const b of document.querySelectorAll("#case-filters button")) {
    b.addEventListener("click", () => { choose(b); reload(); });
  }
  choose(document.querySelector(`#case-filters button[data-filter="${filter}"]`));

  H.connect({ hall: page.hall, manager: true }, {
    snapshot: reloadSoon,
    event(e) {
      if (!e.kind.startsWith("case.")) return;
      if (e.kind === "case.opened") $("case-news").textContent = H.format(S.new_case, { number: e.data.number });
      reloadSoon();
    },
    error(err) { $("case-error").textContent = H.errorText(err); },
  });
  reload();
})();
