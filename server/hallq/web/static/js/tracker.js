/* The phone tracker: re-reads its ticket whenever the hall changes; alerts once when called. */
(function () {
  "use strict";
  const H = window.HallQ, T = H.T, el = H.el;
  const page = JSON.parse(document.getElementById("page").textContent);
  const $ = (id) => document.getElementById(id);
  let ticket = page.ticket, alerted = false, soundOn = false, audio = null;

  function beep() {
    if (!soundOn) return;
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      for (const [i, f] of [[0, 880], [1, 660], [2, 880]]) {
        const o = audio.createOscillator(), g = audio.createGain();
        o.frequency.value = f; o.connect(g); g.connect(audio.destination);
        g.gain.setValueAtTime(0.3, audio.currentTime + i * 0.35);
        o.start(audio.currentTime + i * 0.35); o.stop(audio.currentTime + i * 0.35 + 0.3);
      }
    } catch (e) { /* no sound on this phone */ }
  }

  function render() {
    const t = ticket, texts = T.tracker;
    const win = t.window ? t.window.number : "";
    $("status").textContent = H.format(texts[t.status] || t.status, { window: win });
    $("card").className = "tracker-card status-" + t.status;
    $("ahead").textContent = t.status === "waiting" ? String(t.ahead) : "—";
    $("wait").textContent = t.status === "waiting" ? H.minutesText(t.estimated_wait_minutes) : "—";
    $("position").hidden = t.status !== "waiting";
    if (t.status === "called" && !alerted) {
      alerted = true;
      if (navigator.vibrate) navigator.vibrate([400, 200, 400, 200, 400]);
      beep();
    }
    if (t.status === "waiting") alerted = false;  // requeued after a skip: alert again next time
    if (t.status === "done" && !ratingShown) { ratingShown = true; loadRating(); }
  }

  /* 好差评 on the phone: once a leg is served, rate it on the five levels; a bad rating asks why. */
  let ratingShown = false;
  const R = T.rating;  // page_strings(): the rating texts sit beside the tracker's, not inside them
  async function loadRating() {
    const r = await H.api("GET", page.rating_api);
    if (!r.ok) return;
    renderRating(r.data);
  }

  function renderRating(form, justRated) {
    $("rating-title").textContent = R.title;
    const blocks = form.legs.map((leg) => {
      const name = H.localName({ name: leg.service_name, name_en: leg.service_name_en });
      const head = el("p", { class: "label", text: H.format(R.leg, { service: name, window: leg.window }) });
      if (leg.rated) {
        const done = [head, el("p", { class: "rated", "data-leg": leg.leg, text: H.format(R.rated, { level: R.levels[leg.rated.score] }) })];
        if (justRated === leg.leg) {
          done.push(el("p", { class: "message ok", role: "status", text: R.thanks }));
          if (leg.rated.score <= 2) done.push(el("p", { class: "hint", text: R.bad_followup }));
        }
        return el("div", { class: "rating-leg" }, ...done);
      }
      if (!leg.may_rate) return el("div", { class: "rating-leg" }, head, el("p", { class: "hint", text: R.closed }));
      return ratingForm(form, leg, head);
    });
    $("rating-legs").replaceChildren(...blocks);
    $("rating").hidden = blocks.length === 0;
  }

  function ratingForm(form, leg, head) {
    let score = null;
    const levels = el("div", { class: "levels", role: "radiogroup" }, ...form.levels.map((l) =>
      el("button", { type: "button", class: "level level-" + l.score, "data-score": l.score, role: "radio", "aria-checked": "false",
                     text: R.levels[l.score], onclick: (ev) => pick(l.score, ev.currentTarget) })));
    const indicators = el("fieldset", { class: "indicators" }, el("legend", { text: R.indicators_hint }),
      ...form.indicators.map((name) => el("label", {}, R.indicators[name] + " ",
        el("select", { name }, el("option", { value: "", text: "—" }),
          ...[5, 4, 3, 2, 1].map((s) => el("option", { value: s, text: String(s) }))))));
    const reasons = el("fieldset", { class: "reasons", hidden: true }, el("legend", { text: R.reasons }),
      ...form.bad_reasons.map((reason) => el("label", {}, el("input", { type: "checkbox", value: reason }), " " + reason)));
    const comment = el("textarea", { name: "comment", maxlength: form.max_comment, rows: 3, placeholder: R.comment, "aria-label": R.comment });
    const phone = el("input", { type: "tel", name: "phone", maxlength: 20, autocomplete: "tel", inputmode: "tel", placeholder: R.phone });
    const consent = el("input", { type: "checkbox", name: "consent" });
    const contact = el("fieldset", { class: "contact", hidden: true }, el("legend", { text: R.phone_title }),
      el("label", {}, R.phone + " ", phone), el("label", { class: "consent" }, consent, " " + R.consent));
    const submit = el("button", { type: "submit", class: "primary", disabled: true, text: R.submit });
    function pick(s, button) {
      score = s;
      for (const b of levels.children) b.setAttribute("aria-checked", b === button ? "true" : "false");
      reasons.hidden = s > 2;
      contact.hidden = s > 2;
      submit.disabled = false;
    }
    const node = el("form", { class: "rating-leg", "data-leg": leg.leg }, head, levels, indicators, reasons, comment, contact, submit);
    node.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      if (score === null) return;
      const body = { score, leg: leg.leg };
      const scored = {};
      for (const sel of indicators.querySelectorAll("select")) if (sel.value) scored[sel.name] = Number(sel.value);
      if (Object.keys(scored).length) body.indicators = scored;
      const picked = [...reasons.querySelectorAll("input:checked")].map((i) => i.value);
      if (score <= 2 && picked.length) body.reasons = picked;
      if (comment.value.trim()) body.comment = comment.value.trim();
      if (score <= 2 && phone.value.trim()) {
        if (!consent.checked) { $("rating-error").textContent = R.consent_needed; return; }
        body.phone = phone.value.trim();
        body.consent = true;
      }
      submit.disabled = true;
      const r = await H.api("POST", page.rating_api, body);
      if (!r.ok) {
        submit.disabled = false;
        $("rating-error").textContent = H.errorText(r.data.error);
        if (r.status === 409) loadRating();
        return;
      }
      $("rating-error").textContent = "";
      renderRating(r.data.form, leg.leg);
    });
    return node;
  }

  async function reload() {
    const r = await H.api("GET", page.api);
    if (r.ok) { ticket = r.data; render(); }
  }
  let pending = null;
  const reloadSoon = () => { if (!pending) pending = setTimeout(() => { pending = null; reload(); }, 150); };

  $("enable-alerts").addEventListener("click", () => {
    soundOn = true;
    audio = audio || new (window.AudioContext || window.webkitAudioContext)();
    $("enable-alerts").textContent = T.tracker.alerts_on;
    $("enable-alerts").disabled = true;
  });

  render();
  H.connect({ hall: page.hall, ticket: ticket.id }, {  // the ticket's own room: the public rooms carry no tracking ids
    snapshot: reloadSoon,
    event(e) {
      if (!e.data || e.data.ticket !== ticket.id) return;
      reload();
      if (e.kind === "review.recorded" && e.data.channel === "review_box" && ratingShown) loadRating();  // rated at the window meanwhile
    },
    queue: reloadSoon,
  });
})();
