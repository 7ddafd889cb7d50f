/* 统计: a month's figures from GET /api/v1/halls/{hall}/stats, as tiles, charts (ECharts,
   served by HallQ itself) and tables; the month's Excel workbook from .../stats.xlsx. */
(function () {
  "use strict";
  const H = window.HallQ;
  const head = document.querySelector(".stats-head");
  const hall = head.dataset.hall;
  const S = JSON.parse(document.getElementById("stats-strings").textContent);
  const english = document.documentElement.lang === "en";
  const picker = document.getElementById("stats-month");
  const api = `/api/v1/halls/${encodeURIComponent(hall)}/stats`;
  const ratingsApi = `/api/v1/halls/${encodeURIComponent(hall)}/ratings`;
  const RATES = new Set(["no_show_rate", "active_rating_rate", "five_star_rate", "satisfaction_rate", "walked_away_rate",
    "transfer_rate", "rectification_rate", "on_time_rectification_rate"]);
  // Today's headline figures (read again every minute while the page is shown, and when it is shown
  // again), then the month's. No walk-away rate: tickets walk away only at the day's close.
  const TODAY = ["tickets", "cases", "wait_mean", "handling_mean", "no_show_rate", "active_rating_rate",
    "five_star_rate", "satisfaction_rate", "bad_reviews"];
  const TODAY_EVERY_MS = 60000;
  const MINUTES = new Set(["wait_mean", "wait_median", "wait_p90", "handling_mean", "handling_p90", "wait_promise_error", "wait_simple_error"]);
  const charts = {};

  function shown(key, value) {
    if (value === null || value === undefined) return "—";
    if (RATES.has(key)) return (value * 100).toFixed(1) + "%";
    if (MINUTES.has(key)) return H.format(H.T.minutes || "%(n)s min", { n: Number(value).toFixed(1) });
    return String(value);
  }

  function chart(id) {
    if (!charts[id]) charts[id] = echarts.init(document.getElementById(id), null, { locale: english ? "EN" : "ZH" });
    return charts[id];
  }

  function months(last, count) {
    const [y, m] = last.split("-").map(Number);
    const out = [];
    for (let i = count - 1; i >= 0; i--) {
      const d = new Date(Date.UTC(y, m - 1 - i, 1));
      out.push(`${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, "0")}`);
    }
    return out;
  }

  function tiles(id, keys, totals) {
    const box = document.getElementById(id);
    box.replaceChildren(...keys.map((key) =>
      H.el("div", { class: "tile", "data-key": key }, H.el("span", { class: "tile-value" }, shown(key, totals[key])), H.el("span", { class: "tile-label" }, S.tiles[key]))));
  }

  async function today() {
    const answer = await H.api("GET", api);  // no day asked: today, in the hall's time zone
    const error = document.getElementById("today-error");
    if (!answer.ok) {  // no figures rather than old ones passed off as today's; the next minute tries again
      tiles("today-tiles", TODAY, {});
      error.textContent = H.errorText(answer.data.error);
      error.hidden = false;
      return;
    }
    error.hidden = true;
    const r = answer.data;
    document.getElementById("today-date").textContent = r.since;
    tiles("today-tiles", TODAY, r.working_days ? r.totals : {});
    document.getElementById("today-closed").hidden = r.working_days > 0;
    document.getElementById("today").dataset.loaded = r.since;
  }

  function table(key, rows, label) {
    const body = document.querySelector(`#table-${key} tbody`);
    body.replaceChildren(...rows.map((r) => H.el("tr", {}, H.el("th", {}, label(r)),
      ...[...(key === "services" ? ["tickets"] : []),  // issued for services, not at windows or by staff
        "cases", "wait_mean", "wait_p90", "handling_mean", "no_show_rate",
        ...(key === "services" ? ["walked_away_rate"] : []),  // a ticket never called walked away from its service only
        "transfer_rate", "reviews", "satisfaction_rate", "bad_reviews", "rectification_rate"]
        .map((k) => H.el("td", {}, shown(k, r[k]))))));
  }

  function hours(report) {
    const byHour = new Map(report.hours.map((h) => [h.hour, h]));
    const span = [...Array(24).keys()].filter((h) => byHour.has(h));
    const first = span.length ? Math.min(...span) : 8, last = span.length ? Math.max(...span) : 17;
    const axis = [];
    for (let h = first; h <= last; h++) axis.push(h);
    chart("chart-hours").setOption({
      tooltip: { trigger: "axis", renderMode: "richText" }, legend: { data: [S.tickets, S.wait] },
      xAxis: { type: "category", name: S.hour, data: axis.map((h) => `${h}:00`) },
      yAxis: [{ type: "value", name: S.tickets }, { type: "value", name: S.wait }],
      series: [
        { name: S.tickets, type: "bar", data: axis.map((h) => (byHour.get(h) || {}).tickets || 0) },
        { name: S.wait, type: "line", yAxisIndex: 1, data: axis.map((h) => (byHour.get(h) || {}).wait_mean ?? null) },
      ],
    }, true);
  }

  function heat(report) {
    const days = [...new Set(report.heat.map((c) => c.day))];
    const hours = report.heat.map((c) => c.hour);
    const first = hours.length ? Math.min(...hours) : 8, last = hours.length ? Math.max(...hours) : 17;
    const axis = [];
    for (let h = first; h <= last; h++) axis.push(h);
    const top = Math.max(1, ...report.heat.map((c) => c.tickets));
    chart("chart-heat").setOption({
      tooltip: { renderMode: "richText", formatter: (p) => `${days[p.value[1]]} ${axis[p.value[0]]}:00  ${S.tickets} ${p.value[2]}` },
      grid: { left: 90, right: 20, top: 10, bottom: 60 },
      xAxis: { type: "category", name: S.hour, data: axis.map((h) => `${h}:00`), splitArea: { show: true } },
      yAxis: { type: "category", data: days.map((d) => d.slice(5)), splitArea: { show: true } },
      visualMap: { min: 0, max: top, calculable: true, orient: "horizontal", left: "center", bottom: 0, inRange: { color: ["#f7fbff", "#b91c1c"] } },
      series: [{ type: "heatmap", name: S.tickets,
                 data: report.heat.map((c) => [axis.indexOf(c.hour), days.indexOf(c.day), c.tickets]) }],
    }, true);
    document.getElementById("chart-heat").style.height = `${Math.max(200, 22 * days.length + 90)}px`;
    chart("chart-heat").resize();
  }

  async function trend(month, totals) {
    const list = months(month, 6);  // the shown month's figures are in hand: the five before it are asked for
    const answers = await Promise.all(list.slice(0, -1).map((m) => H.api("GET", `${api}?month=${m}`)));
    const got = [...answers.map((a) => (a.ok ? a.data.totals : {})), totals];
    chart("chart-months").setOption({
      tooltip: { trigger: "axis", renderMode: "richText" }, legend: { data: [S.tickets, S.cases, S.wait] },
      xAxis: { type: "category", data: list },
      yAxis: [{ type: "value" }, { type: "value", name: S.wait }],
      series: [
        { name: S.tickets, type: "bar", data: got.map((t) => t.tickets ?? 0) },
        { name: S.cases, type: "bar", data: got.map((t) => t.cases ?? 0) },
        { name: S.wait, type: "line", yAxisIndex: 1, data: got.map((t) => t.wait_mean ?? null) },
      ],
    }, true);
  }

  async function show(month) {
    const error = document.getElementById("stats-error");
    const answer = await H.api("GET", `${api}?month=${month}`);
    if (!answer.ok) {
      error.textContent = H.errorText(answer.data.error);
      error.hidden = false;
      return;
    }
    error.hidden = true;
    const r = answer.data;
    head.dataset.shown = month;
    document.getElementById("stats-period").textContent =
      H.format(S.period, { since: r.since, until: r.until, days: r.working_days }) + (r.live_days.length ? " " + S.live : "");
    document.getElementById("stats-download").href = `${api}.xlsx?month=${month}`;
    document.getElementById("ratings-csv").href = `${ratingsApi}.csv?month=${month}`;
    document.getElementById("ratings-xlsx").href = `${ratingsApi}.xlsx?month=${month}`;
    tiles("tiles", S.tile_order, r.totals);
    table("services", r.services, (x) => H.localName({ name: x.name, name_en: x.name_en, code: x.service }));
    table("windows", r.windows, (x) => String(x.window));
    table("staff", r.staff, (x) => x.display_name + (x.staff_no ? ` (${x.staff_no})` : ""));
    hours(r);
    heat(r);
    await trend(month, r.totals);
    head.dataset.loaded = month;
  }

  picker.addEventListener("change", () => { if (picker.value) show(picker.value); });
  document.getElementById("stats-pick").addEventListener("submit", (e) => { e.preventDefault(); if (picker.value) show(picker.value); });
  window.addEventListener("resize", () => Object.values(charts).forEach((c) => c.resize()));
  show(picker.value || head.dataset.month);
  today();
  setInterval(() => { if (!document.hidden) today(); }, TODAY_EVERY_MS);
  document.addEventListener("visibilitychange", () => { if (!document.hidden) today(); });
})();
