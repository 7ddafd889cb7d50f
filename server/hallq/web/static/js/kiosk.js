/* The touch kiosk: one tap issues a ticket; live waiting counts on every button. */
(function () {
  "use strict";
  const H = window.HallQ, T = H.T;
  const page = JSON.parse(document.getElementById("page").textContent);
  const $ = (id) => document.getElementById(id);
  let green = false, busy = false, closeTimer = null;

  $("green").addEventListener("click", () => {
    green = !green;
    $("green").setAttribute("aria-pressed", String(green));
    document.body.classList.toggle("green-on", green);
  });

  // The next visitor starts in Chinese: an English visit ends with its ticket.
  // (The page never remembers a language; without ?lang= it is Chinese.)
  function backToChinese() {
    if (!H.english) return false;
    const url = new URL(window.location.href);
    url.searchParams.delete("lang");
    window.location.replace(url.toString());
    return true;
  }

  function hideTicket() {
    $("ticket").hidden = true;
    if (green) $("green").click();
    clearTimeout(closeTimer);
    backToChinese();
  }
  $("ticket-done").addEventListener("click", hideTicket);

  // Left alone for a while, the kiosk goes back to its start for whoever comes next.
  let idleTimer = null;
  function touched() {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(() => {
      if (!$("ticket").hidden) hideTicket();
      else if (!backToChinese() && green) $("green").click();
      touched();
    }, (page.idle_seconds || 60) * 1000);
  }
  for (const kind of ["pointerdown", "keydown", "touchstart"]) document.addEventListener(kind, touched, { passive: true, capture: true });
  touched();

  // A refusal in words; a closed day says what day it is (the holiday's name); a service closed
  // now says when it issues tickets today (or that it issues none today: its hours and the day's
  // never meet).
  function refusal(error) {
    const closed = error && error.code === "hall_closed_today" && error.details;
    if (closed && closed.date) {
      const day = T.kiosk.day_names[closed.reason] || T.kiosk.day_names[""];
      return H.errorText(error) + " " + H.format(T.kiosk.closed_today, { date: closed.date, day });
    }
    const hours = error && error.code === "service_closed" && error.details && error.details.hours;
    if (!Array.isArray(hours)) return H.errorText(error);
    return H.errorText(error) + " " + (hours.length ? H.format(T.kiosk.hours_today, { hours: hours.join(", ") }) : T.kiosk.no_hours_today);
  }

  async function issue(code) {
    if (busy) return;
    busy = true;
    $("message").textContent = "";
    const r = await H.api("POST", page.issue, { service: code, green, printer: page.printer || undefined });
    busy = false;
    if (!r.ok) { $("message").textContent = refusal(r.data.error); return; }
    const t = r.data;
    $("ticket-number").textContent = t.number;
    $("ticket-service").textContent = H.localName({ name: t.service_name, name_en: t.service_name_en });
    $("ticket-ahead").textContent = H.format(T.kiosk.ahead, { ahead: t.ahead, minutes: Math.round(t.estimated_wait_minutes || 0) });
    $("ticket-qr").src = t.qr_url;
    // The ticket on screen is the visitor's ticket whatever the printer did; the line below says what to do.
    const said = T.kiosk.print[t.print] || T.kiosk.print.error;
    $("ticket-printed").textContent = said;
    $("ticket-printed").dataset.print = t.print;
    $("ticket-printed").className = t.print === "printed" || t.print === "none" ? "" : "print-problem";
    $("ticket").hidden = false;
    clearTimeout(closeTimer);
    closeTimer = setTimeout(hideTicket, 15000);
  }
  for (const b of document.querySelectorAll("button.service")) b.addEventListener("click", () => issue(b.dataset.service));

  function showQueue(services) {
    for (const q of services) {
      const span = document.querySelector(`[data-waiting="${q.service}"]`);
      if (span) span.textContent = H.format(T.kiosk.waiting, { n: q.waiting });
    }
  }
  H.connect({ hall: page.hall }, { snapshot: (s) => showQueue(s.queue), queue: (q) => showQueue(q.services) });
})();
