/* Shared by the signed-in pages and the kiosk and tracker: CSRF-aware fetch,
   translated texts, and a Socket.IO connection that resynchronises on reconnect. */
(function () {
  "use strict";
  const meta = document.querySelector('meta[name="csrf-token"]');
  const stringsEl = document.getElementById("strings");
  const T = stringsEl ? JSON.parse(stringsEl.textContent) : {};
  const english = document.documentElement.lang === "en";

  function format(text, values) {
    return String(text).replace(/%\((\w+)\)s/g, (_, k) => (values && k in values ? values[k] : ""));
  }

  async function api(method, url, body) {
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (meta && method !== "GET") headers["X-CSRFToken"] = meta.content;
    let response;
    try {
      response = await fetch(url, { method, headers, credentials: "same-origin", body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (e) {
      return { ok: false, status: 0, data: { error: { code: "network", message: "network" } } };
    }
    let data = null;
    try { data = await response.json(); } catch (e) { data = null; }
    if (!response.ok && !(data && data.error)) {
      data = { error: { code: response.status === 400 ? "csrf_failed" : "http_" + response.status, message: response.statusText } };
    }
    return { ok: response.ok, status: response.status, data };
  }

  function errorText(error) {
    if (!error) return "";
    return (T.errors && T.errors[error.code]) || error.message || error.code;
  }

  function localName(item) {
    if (!item) return "";
    return (english && item.name_en) || item.name || item.code || "";
  }

  function minutesSince(iso, now) {
    if (!iso) return null;
    return Math.max(0, ((now || Date.now()) - Date.parse(iso)) / 60000);
  }

  function clockText(iso) {
    const m = minutesSince(iso);
    if (m === null) return T.none || "—";
    const total = Math.floor(m * 60);
    const mm = Math.floor(total / 60), ss = total % 60;
    return mm + ":" + String(ss).padStart(2, "0");
  }

  function minutesText(value) {
    if (value === null || value === undefined) return T.none || "—";
    return format(T.minutes || "%(n)s min", { n: Math.round(value) });
  }

  /* Other scripts of a page may listen on its connection too (H.on), whenever they load. */
  const sockets = [], listeners = [];
  function on(name, fn) {
    listeners.push([name, fn]);
    for (const s of sockets) s.on(name, fn);
  }

  /* Join the hall (and window) room; every (re)connect gets a fresh snapshot. */
  function connect(join, handlers) {
    const banner = document.getElementById("conn");
    const socket = io({ transports: ["websocket", "polling"], reconnectionDelayMax: 3000 });
    socket.on("connect", () => {
      if (banner) banner.hidden = true;
      document.body.classList.remove("disconnected");
      socket.emit("join", join, (answer) => {
        if (answer && !answer.ok && handlers.error) handlers.error(answer.error);
      });
    });
    socket.on("disconnect", () => {
      if (banner) banner.hidden = false;
      document.body.classList.add("disconnected");
    });
    socket.on("connect_error", () => {
      if (banner) banner.hidden = false;
      document.body.classList.add("disconnected");
    });
    for (const name of ["snapshot", "event", "queue", "suggestions"]) {
      if (handlers[name]) socket.on(name, handlers[name]);
    }
    for (const [name, fn] of listeners) socket.on(name, fn);
    sockets.push(socket);
    return socket;
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children) if (c !== null && c !== undefined) node.append(c);
    return node;
  }

  window.HallQ = { T, api, errorText, format, localName, minutesSince, clockText, minutesText, connect, on, el, english };
})();
