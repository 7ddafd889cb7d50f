/* One bad-review case: its flags and timeline, and a form for the next step (only the steps the
   case's state allows). The page re-reads the case when another manager changes it. */
(function () {
  "use strict";
  const H = window.HallQ, el = H.el;
  const page = JSON.parse(document.getElementById("page").textContent);
  const S = JSON.parse(document.getElementById("case-strings").textContent);
  const $ = (id) => document.getElementById(id);
  let c = page.case, revealed = false;

  function render() {
    $("case-state").textContent = S.state[c.state];
    $("case-state").dataset.state = c.state;
    const f = c.flags, flags = [];
    if (f.overdue) flags.push(S.flag.overdue);
    if (f.due_soon) flags.push(S.flag.due_soon);
    if (f.callback_late) flags.push(S.flag.callback_late);
    if (f.on_time === true) flags.push(S.flag.on_time);
    if (f.on_time === false) flags.push(S.flag.late);
    $("flags").textContent = flags.join(" · ") || "—";
    $("handler").textContent = c.handler || "—";
    if (!revealed) $("contact").textContent = c.contact.masked ? c.contact.masked + (c.contact.erased ? " (" + S.erased + ")" : "") : "—";
    $("reveal").hidden = !c.contact.may_reveal || revealed;
    $("appeal").textContent = c.appeal ? S.appeal_kind[c.appeal.kind] + " · " + S.appeal[c.appeal.state] : "—";
    const select = $("case-action"), was = select.value;
    select.replaceChildren(...c.actions.map((a) => el("option", { value: a, text: S.action[a] })));
    if (c.actions.includes(was)) select.value = was;
    $("case-form").hidden = c.actions.length === 0;
    $("case-done").hidden = c.actions.length > 0;
    showFields();
    $("timeline").replaceChildren(...c.timeline.map((s) => {
      const extra = [];
      if (s.detail.reached === true) extra.push(S.reached);
      if (s.detail.reached === false) extra.push(S.not_reached);
      if (s.detail.declined) extra.push(S.declined);
      if (typeof s.detail.score === "number") extra.push(String(s.detail.score) + "/5");
      if (s.detail.on_time === false) extra.push(S.flag.late);
      if (s.detail.kind) extra.push(S.appeal_kind[s.detail.kind]);
      if (s.detail.evidence) extra.push(s.detail.evidence);
      return el("li", { "data-step": s.step },
        el("time", { datetime: s.at, text: new Date(s.at).toLocaleString(H.english ? "en" : "zh-CN", { timeZone: page.tz }) }), " ",
        el("strong", { text: S.step[s.step] || s.step }), " · ", el("span", { text: S.actors[s.role === "device" ? "device" : s.actor] || s.actor }),
        extra.length ? el("span", { class: "detail", text: " · " + extra.join(" · ") }) : null,
        s.note ? el("p", { class: "note", text: s.note }) : null);
    }));
  }

  function showFields() {
    const action = $("case-action").value;
    $("field-reached").hidden = action !== "callback";
    $("field-score").hidden = action !== "follow_up";
    $("field-appeal").hidden = action !== "appeal";
  }
  $("case-action").addEventListener("change", showFields);
  $("reveal").addEventListener("click", async () => {
    const r = await H.api("POST", page.api + "/contact");
    if (!r.ok) { $("case-error").textContent = H.errorText(r.data.error); return; }
    revealed = true;  // shown on this page only: never kept, re-read or sent elsewhere
    $("contact").textContent = r.data.phone;
    $("reveal").hidden = true;
  });
  $("follow-declined").addEventListener("change", () => { $("follow-score").disabled = $("follow-declined").checked; });

  $("case-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const action = $("case-action").value, body = { note: $("case-note").value };
    if (action === "callback") body.reached = document.querySelector('input[name="reached"]:checked').value === "true";
    if (action === "appeal") {
      body.kind = document.querySelector('input[name="kind"]:checked').value;
      body.evidence = $("appeal-evidence").value;
    }
    if (action === "follow_up") {
      if ($("follow-declined").checked) body.declined = true;
      else body.score = Number($("follow-score").value);
    }
    $("case-submit").disabled = true;
    const r = await H.api("POST", page.api + "/" + action, body);
    $("case-submit").disabled = false;
    if (!r.ok) { $("case-error").textContent = H.errorText(r.data.error); return; }
    $("case-error").textContent = "";
    $("case-note").value = "";
    $("appeal-evidence").value = "";
    c = r.data;
    render();
  });

  async function reload() {
    const r = await H.api("GET", page.api);
    if (r.ok) { c = r.data; render(); }
  }
  H.connect({ hall: page.hall, manager: true }, {
    event(e) { if (e.kind.startsWith("case.") && e.data.case === c.id) reload(); },
  });
  render();
})();
