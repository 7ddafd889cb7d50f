/* The window screen: number and name, the current ticket, the staff member; 暂停服务 when paused or closed. */
(function () {
  "use strict";
  const D = window.Display, T = D.T, $ = (id) => document.getElementById(id);
  const hall = D.params.get("hall");
  const number = parseInt(D.params.get("window"), 10);
  if (!hall || !number) { D.fail(T.noHall); return; }
  let view = null;

  function render(flash) {
    const w = view;
    $("screen").className = "window-screen state-" + w.state;
    $("wno").textContent = D.format(T.windowNo, { n: w.number });
    $("wname").textContent = w.name;
    const stopped = w.state === "paused" || w.state === "closed";
    $("paused").hidden = !stopped;
    $("paused").textContent = T[w.state] || "";
    $("label").textContent = stopped ? "" : w.ticket ? T.now : T.idle;
    $("number").textContent = stopped || !w.ticket ? "" : w.ticket.number;
    $("number").classList.toggle("flash", !!flash);
    $("staff").textContent = w.staff && !stopped
      ? `${T.staff} ${w.staff.name}${w.staff.staff_no ? "  ·  " + T.staffNo + " " + w.staff.staff_no : ""}` : " ";
  }

  D.connect({ hall, window: number }, {
    snapshot(s) { view = s.window; render(false); },
    event(e) {
      if (e.window !== number || !e.data || !e.data.window_state) return;
      if (view && e.data.window_state.version < view.version) return;
      view = e.data.window_state;
      const call = e.kind === "ticket.called" || e.kind === "ticket.recalled";
      render(call);
      if (call && D.params.get("announce") === "on") D.announce(e.data.number, number);
    },
    error() { D.fail(T.unknown); },
  });
})();
