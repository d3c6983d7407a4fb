// Lane display: listens to /lanes/:id/events and shows idle, PASS, FLAG or OUT OF SERVICE.
// Fail-safe rules: a verdict is shown only for its ttl (the client counts it itself); when no
// message arrives for 3.5 heartbeats the screen turns OUT OF SERVICE on its own. The heartbeat
// interval is the one the last event carried (state, lane-status, heartbeat), so a reloaded
// display.heartbeatMs reaches an open page without a reconnect.
"use strict";
(function () {
  var laneId = decodeURIComponent(location.pathname.split("/")[2] || "");
  var FALLBACK = {
    oos: { vi: "Làn này tạm ngừng", en: "This lane is closed" },
    oosHint: { vi: "Vui lòng sang làn khác", en: "Please use another lane" },
    noHeartbeat: { vi: "Hệ thống không phản hồi", en: "Gateway not responding" },
    connecting: { vi: "Đang kết nối", en: "Connecting" },
    unknownLane: { vi: "Làn này chưa được cấu hình", en: "This lane is not configured" },
    idle: { vi: "Vui lòng đưa mã QR", en: "Show your code" },
    idleHint: { vi: "Đưa mã QR về phía camera", en: "Hold the QR code towards the camera" },
    flag: { vi: "Vui lòng gặp cán bộ", en: "Please see an officer" },
    pass: { vi: "Hợp lệ, mời đi tiếp", en: "Accepted, please proceed" },
  };
  var ui = FALLBACK;
  var lang = "vi";
  var heartbeatMs = 2000;
  var serverView = null;
  var verdictTimer = null;
  var shownVerdict = null;
  var watchdog = null;
  var dead = false;
  var es = null;
  var $ = function (id) { return document.getElementById(id); };

  function other(l) { return l === "vi" ? "en" : "vi"; }
  function pick(t, l) { return t ? t[l] || t.en || "" : ""; }

  function paint(state, headline, detail, code, cause) {
    document.body.className = "state-" + state;
    document.body.dataset.state = state;
    document.documentElement.lang = lang;
    $("headline").textContent = pick(headline, lang);
    $("detail").textContent = pick(detail, lang);
    var second = [pick(headline, other(lang)), pick(detail, other(lang))].filter(Boolean).join(" · ");
    $("secondary").textContent = second;
    $("secondary").lang = other(lang);
    $("cause").textContent = cause ? [pick(cause, lang), pick(cause, other(lang))].filter(Boolean).join(" · ") : "";
    $("code").textContent = code || "";
    $("lane").textContent = (serverView && serverView.name) || laneId;
  }

  function clearVerdict() {
    if (verdictTimer) clearTimeout(verdictTimer);
    verdictTimer = null;
    shownVerdict = null;
  }

  function showIdle() {
    clearVerdict();
    paint("idle", ui.idle, ui.idleHint, "");
  }

  // Travellers are told what to do; the cause (for officers) is the small line underneath.
  function showOutOfService(cause, code) {
    clearVerdict();
    paint("out-of-service", ui.oos, ui.oosHint || FALLBACK.oosHint, code, cause);
  }

  function showVerdict(v) {
    if (!v || !(v.ttl > 0)) return;
    if (serverView && serverView.state === "out-of-service") return;
    clearVerdict();
    var pass = v.verdict === "PASS";
    shownVerdict = pass ? "PASS" : "FLAG";
    paint(pass ? "pass" : "flag", pass ? ui.pass : ui.flag, pass ? null : v.text, (pass ? "" : v.reason + " · ") + "#" + v.seq);
    // Client-side TTL: even if the gateway never says so, the verdict leaves the screen.
    verdictTimer = setTimeout(function () {
      verdictTimer = null;
      shownVerdict = null;
      if (serverView && (serverView.state === "pass" || serverView.state === "flag")) serverView.state = "idle";
      showIdle();
    }, v.ttl);
  }

  function applyView(v) {
    serverView = v;
    if (v.lang) lang = v.lang;
    if (dead) return;
    if (v.state === "out-of-service") showOutOfService(v.cause, (v.problems || []).join(" "));
    else if ((v.state === "pass" || v.state === "flag") && v.verdict) showVerdict(v.verdict);
    else showIdle();
  }

  // Called only with an event in hand, just before alive(): the watchdog is re-armed from that
  // event with the new interval, so a lowered one cannot flip a healthy page at once, and a raised
  // one counts from the last event the gateway sent, never from an older one.
  function adopt(v) {
    var ms = v && v.heartbeatMs;
    if (typeof ms === "number" && isFinite(ms) && ms > 0) heartbeatMs = ms;
  }

  function alive() {
    if (watchdog) clearTimeout(watchdog);
    watchdog = setTimeout(function () {
      dead = true;
      showOutOfService(ui.noHeartbeat, "NO_HEARTBEAT");
    }, heartbeatMs * 3.5);
    if (dead) {
      dead = false;
      // A verdict from before the outage is not shown again: its time has passed.
      if (serverView && serverView.state === "out-of-service") applyView(serverView);
      else showIdle();
    }
  }

  function on(name, fn) {
    es.addEventListener(name, function (e) {
      var data;
      try { data = JSON.parse(e.data); } catch (err) { return; }
      fn(data);
    });
  }

  function connect() {
    es = new EventSource("/lanes/" + encodeURIComponent(laneId) + "/events");
    on("state", function (v) {
      adopt(v);
      if (v.ui) ui = v.ui;
      alive();
      applyView(v);
    });
    on("lane-status", function (v) { adopt(v); alive(); applyView(v); });
    // A FLAG keeps the screen for its ttl: a PASS event meanwhile is not painted over it (the
    // gateway sends the PASS as a lane-status when the FLAG ends, if any of its hold is left).
    on("verdict", function (v) {
      alive();
      if (!(shownVerdict === "FLAG" && v && v.verdict === "PASS")) showVerdict(v);
    });
    on("heartbeat", function (v) { adopt(v); alive(); });
    es.onerror = function () {
      // A green screen must not outlive the connection that put it there.
      if (document.body.dataset.state === "pass") showOutOfService(ui.noHeartbeat, "NO_HEARTBEAT");
      if (es.readyState === EventSource.CLOSED) {
        // The browser gives up after an HTTP error (e.g. a proxy's 502); keep trying ourselves.
        // A lane the gateway does not know (404) says so instead of waiting for heartbeats.
        fetch("/lanes/" + encodeURIComponent(laneId) + "/state", { cache: "no-store" })
          .then(function (res) { if (res.status === 404) { dead = true; showOutOfService(FALLBACK.unknownLane, "LANE_UNKNOWN"); } })
          .catch(function () {});
        setTimeout(connect, 2000);
      }
    };
  }

  function tickClock() {
    var d = new Date();
    $("clock").textContent = String(d.getHours()).padStart(2, "0") + ":" + String(d.getMinutes()).padStart(2, "0");
  }

  showOutOfService(FALLBACK.connecting, "");
  tickClock();
  setInterval(tickClock, 10000);
  alive();
  connect();
})();
