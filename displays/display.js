/* What every display shares: its settings from the address, texts in Chinese
   or English, the Socket.IO connection (which resynchronises after any break),
   and the chime and spoken call. Served by the HallQ server and by the edge
   call-screen agent alike, so it uses relative paths and no build step.

   The spoken call is the hall's own voice: the server renders each call
   (voice/call.wav, espeak-ng or the hall's recorded clips) and the page plays
   it, so every screen sounds alike whatever the PC. The browser's speech
   synthesis is only the fallback (a server without a voice, audio that does not
   come); behind an edge call screen the agent speaks and the page stays quiet.

   Address parameters:
     hall=SLUG        the hall (required)
     window=N         window screens: the window
     lang=zh|en       language (default zh)
     layout=portrait  hall screens: force portrait (otherwise from the screen's shape)
     voice=off        no spoken call from this page (an edge voice or another screen announces instead)
     chime=off        no chime
     notice=TEXT      the hall screen's notice line
     server=URL       Socket.IO server, when not this page's origin (the edge agent's own) */
(function () {
  "use strict";
  const params = new URLSearchParams(window.location.search);
  const lang = (params.get("lang") || "zh").toLowerCase().startsWith("en") ? "en" : "zh";
  document.documentElement.lang = lang === "en" ? "en" : "zh-CN";

  const TEXTS = {
    zh: {
      latest: "最新叫号", waiting: "等候人数", ticket: "号码", window: "窗口", people: "人",
      notice: "请留意叫号，过号请到服务台咨询。请保管好您的号票。",
      offline: "连接中断，正在重新连接…", edgeOffline: "离线运行：与服务器的连接中断，叫号照常进行",
      paused: "暂停服务", closed: "暂停服务", idle: "欢迎办理", serving: "正在办理",
      staff: "工作人员", staffNo: "工号", windowNo: "%(n)s 号窗口", noHall: "请在地址中指定大厅：?hall=…",
      announce: "请 %(number)s 号到 %(window)s 号窗口办理", waitingFor: "%(n)s 人等候", now: "当前号码",
      none: "—", unknown: "找不到该大厅或窗口",
    },
    en: {
      latest: "Latest calls", waiting: "Waiting", ticket: "Ticket", window: "Window", people: "",
      notice: "Please listen for your number. If you missed your call, ask at the service desk.",
      offline: "Connection lost. Reconnecting…", edgeOffline: "Offline mode: server unreachable, calling continues",
      paused: "Service paused", closed: "Service paused", idle: "Welcome", serving: "Now serving",
      staff: "Staff", staffNo: "No.", windowNo: "Window %(n)s", noHall: "Add the hall to the address: ?hall=…",
      announce: "Ticket %(number)s, please go to window %(window)s", waitingFor: "%(n)s waiting", now: "Now serving",
      none: "—", unknown: "No such hall or window",
    },
  };
  const T = TEXTS[lang];

  function format(text, values) {
    return String(text).replace(/%\((\w+)\)s/g, (_, k) => (values && k in values ? values[k] : ""));
  }

  function name(item) {
    if (!item) return "";
    return (lang === "en" && item.name_en) || item.name || "";
  }

  /* Spoken numbers: "A032" read letter by letter and digit by digit is what halls use. */
  function spoken(number) {
    return lang === "zh" ? String(number).split("").join(" ") : String(number).split("").join(" ");
  }

  const server = params.get("server");
  let audio = null, voiceOff = params.get("voice") === "off", edgeVoice = false;
  const chimeOff = params.get("chime") === "off";

  function chime() {
    if (chimeOff) return Promise.resolve();
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      const t0 = audio.currentTime;
      for (const [i, f] of [[0, 784], [1, 659], [2, 523]]) {
        const o = audio.createOscillator(), g = audio.createGain();
        o.type = "sine"; o.frequency.value = f; o.connect(g); g.connect(audio.destination);
        g.gain.setValueAtTime(0.0001, t0 + i * 0.45);
        g.gain.exponentialRampToValueAtTime(0.4, t0 + i * 0.45 + 0.03);
        g.gain.exponentialRampToValueAtTime(0.0001, t0 + i * 0.45 + 0.42);
        o.start(t0 + i * 0.45); o.stop(t0 + i * 0.45 + 0.45);
      }
    } catch (e) { /* no audio device: the screen still shows the call */ }
    return new Promise((resolve) => setTimeout(resolve, chimeOff ? 0 : 1400));
  }

  const spokenQueue = [];
  let speaking = false;
  function announce(number, windowNumber) {
    if (edgeVoice) return;  // the edge agent chimes and speaks through the hall's speakers
    spokenQueue.push({ number, windowNumber });
    if (!speaking) speakNext();
  }
  async function speakNext() {
    const item = spokenQueue.shift();
    if (!item) { speaking = false; return; }
    speaking = true;
    const clip = voiceOff ? null : hallVoice(item);  // loads while the chime plays
    await chime();
    if (clip && await play(clip)) { speakNext(); return; }
    if (!voiceOff && window.speechSynthesis) browserVoice(item); else speakNext();
  }

  /* The server's rendering of the call, in one <audio id="hallq-voice"> reused for every call. */
  const voiceUrl = new URL("voice/call.wav", server ? new URL("/displays/", server) : document.baseURI);
  let player = null;
  function hallVoice(item) {
    if (!player) {
      player = document.createElement("audio");
      player.id = "hallq-voice"; player.preload = "auto"; player.hidden = true;
      document.body.append(player);
    }
    const url = new URL(voiceUrl);
    url.search = new URLSearchParams({ number: item.number, window: item.windowNumber, lang }).toString();
    player.dataset.state = "loading";
    player.src = url.href;
    player.load();
    return player;
  }

  /* Resolves true once the clip has played, false if it cannot (no voice on the server, an error, too slow). */
  function play(el) {
    return new Promise((resolve) => {
      let timer = null;
      const done = (ok) => {
        if (timer === null) return;
        clearTimeout(timer); timer = null;
        el.onended = el.onerror = null;
        if (!ok) el.pause();  // too late to be of use: the fallback speaks instead
        el.dataset.state = ok ? "ended" : "failed";
        resolve(ok);
      };
      timer = setTimeout(() => done(false), 10000);
      el.onended = () => done(true);
      el.onerror = () => done(false);
      const started = el.play();
      Promise.resolve(started).then(() => {
        if (timer === null) return;
        el.dataset.state = "playing";
        clearTimeout(timer);  // in case 'ended' never comes: the clip's length and a little
        timer = setTimeout(() => done(true), ((el.duration || 10) + 2) * 1000);
      }, () => done(false));
    });
  }

  function browserVoice(item) {
    const u = new SpeechSynthesisUtterance(format(T.announce, { number: spoken(item.number), window: item.windowNumber }));
    u.lang = lang === "en" ? "en-US" : "zh-CN";
    u.rate = 0.9;
    u.onend = u.onerror = () => speakNext();
    window.speechSynthesis.speak(u);
    setTimeout(() => { if (speaking && !window.speechSynthesis.speaking) speakNext(); }, 8000);
  }

  /* Connect, join, and rejoin after every reconnect: each join answers with a full snapshot. */
  function connect(join, handlers) {
    const banner = document.getElementById("offline");
    const options = { transports: ["websocket", "polling"], reconnectionDelay: 500, reconnectionDelayMax: 3000 };
    const socket = server ? io(server, options) : io(options);
    const down = () => { banner.textContent = T.offline; banner.hidden = false; document.body.classList.add("disconnected"); };
    socket.on("connect", () => {
      socket.emit("join", join, (answer) => {
        if (answer && answer.ok === false && handlers.error) handlers.error(answer.error);
      });
    });
    socket.on("snapshot", (s) => {
      banner.hidden = !s.offline;
      if (s.offline) banner.textContent = T.edgeOffline;
      document.body.classList.remove("disconnected");
      edgeVoice = s.voice === "edge";
      handlers.snapshot(s);
    });
    socket.on("disconnect", down);
    socket.on("connect_error", down);
    if (handlers.event) socket.on("event", handlers.event);
    if (handlers.queue) socket.on("queue", handlers.queue);
    return socket;
  }

  function fail(text) {
    const el = document.getElementById("problem");
    if (el) { el.textContent = text; el.hidden = false; }
  }

  /* The hall's local time, not the PC's: the screen's PC may be set to any zone. Returns
     setZone(tz), given the hall's IANA zone once the server names it; until then (or for a
     zone this browser does not know) the PC's own zone is the best guess. */
  function clock(el) {
    let shown = null;
    const formatter = (tz) => new Intl.DateTimeFormat("en-GB", { timeZone: tz, hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
    const tick = () => { el.textContent = (shown || formatter(undefined)).format(new Date()); };
    tick(); setInterval(tick, 5000);
    return (tz) => {
      try { shown = tz ? formatter(tz) : null; } catch (e) { shown = null; }  // RangeError: unknown zone
      tick();
    };
  }

  /* Unlock audio on the first touch or key (browsers forbid sound before one). */
  const unlock = () => { try { audio = audio || new (window.AudioContext || window.webkitAudioContext)(); audio.resume(); } catch (e) { /* none */ } };
  window.addEventListener("pointerdown", unlock, { once: true });
  window.addEventListener("keydown", unlock, { once: true });

  window.Display = { params, lang, T, format, name, announce, connect, fail, clock };
})();
