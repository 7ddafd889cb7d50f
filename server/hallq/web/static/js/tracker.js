/* The phone tracker: re-reads its ticket whenever the hall changes; alerts once when called. */
(function () {
  "use strict";
  const H = window.HallQ, T = H.T;
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
    event(e) { if (e.data && e.data.ticket === ticket.id) reload(); },
    queue: reloadSoon,
  });
})();
