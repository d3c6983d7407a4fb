// Officer dashboard: polls /api/status once a second and re-renders; snapshots refresh every 2 s.
// Everything here is PII-free by construction: the API carries codes, counts and timings only.
// Vietnamese or English (toggle, remembered in this browser); times are 24-hour, local.
"use strict";
(function () {
  var POLL_MS = 1000;
  var SNAPSHOT_MS = 2000;
  var LANG_KEY = "cgw-dashboard-lang";
  var $ = function (id) { return document.getElementById(id); };

  var T = {
    lanes: { vi: "Làn", en: "Lanes" },
    cameras: { vi: "Camera", en: "Cameras" },
    recent: { vi: "Kết quả gần đây", en: "Recent verdicts" },
    trust: { vi: "Dữ liệu xác thực", en: "Trust data" },
    readiness: { vi: "Tình trạng sẵn sàng", en: "Readiness" },
    time: { vi: "Giờ", en: "Time" },
    lane: { vi: "Làn", en: "Lane" },
    camera: { vi: "Camera", en: "Camera" },
    verdict: { vi: "Kết quả", en: "Verdict" },
    reason: { vi: "Lý do", en: "Reason" },
    format: { vi: "Loại thẻ", en: "Format" },
    frameToVerdict: { vi: "Khung hình→kết quả", en: "Frame→verdict" },
    source: { vi: "Nguồn", en: "Source" },
    ok: { vi: "Tốt", en: "OK" },
    keys: { vi: "Khóa", en: "Keys" },
    refreshed: { vi: "Cập nhật lúc", en: "Refreshed" },
    error: { vi: "Lỗi", en: "Error" },
    noResponse: { vi: "Hệ thống không phản hồi", en: "Gateway not responding" },
    logout: { vi: "Đăng xuất", en: "Sign out" },
    ready: { vi: "sẵn sàng", en: "ready" },
    notReady: { vi: "chưa sẵn sàng", en: "not ready" },
    trustFresh: { vi: "dữ liệu xác thực mới", en: "trust fresh" },
    trustStale: { vi: "dữ liệu xác thực CŨ", en: "trust STALE" },
    clockWrong: { vi: "ĐỒNG HỒ SAI", en: "CLOCK WRONG" },
    pictureFrozen: { vi: "HÌNH ĐỨNG YÊN", en: "PICTURE FROZEN" },
    pictureBlank: { vi: "HÌNH TRỐNG", en: "PICTURE BLANK" },
    trustUnavailable: { vi: "không đọc được dữ liệu xác thực", en: "trust unavailable" },
    display: { vi: "màn hình ↗", en: "display ↗" },
    problems: { vi: "Sự cố", en: "Problems" },
    passFlag: { vi: "Hợp lệ / cảnh báo", en: "Pass / flag" },
    readRate: { vi: "Tỉ lệ đọc", en: "Read rate" },
    timeToVerdict: { vi: "Thời gian ra kết quả", en: "Time to verdict" },
    framesTried: { vi: "Khung hình đã thử", en: "Frames tried" },
    readFailures: { vi: "Lần đọc lỗi", en: "Read failures" },
    displays: { vi: "Màn hình đang nối", en: "Displays" },
    lastFlag: { vi: "Cảnh báo chưa xử lý", en: "Unacknowledged FLAG" },
    ack: { vi: "Đã xử lý", en: "Acknowledge" },
    at: { vi: "lúc", en: "at" },
    fps: { vi: "Khung hình/giây", en: "fps" },
    dropped: { vi: "Khung bị bỏ", en: "Dropped" },
    lastFrame: { vi: "Khung cuối", en: "Last frame" },
    ago: { vi: "trước", en: "ago" },
    never: { vi: "chưa có", en: "never" },
    reconnects: { vi: "Kết nối lại/giờ", en: "Reconnects/h" },
    stalls: { vi: "Bị treo/giờ", en: "Stalls/h" },
    sourceUrl: { vi: "Nguồn", en: "Source" },
    noPicture: { vi: "không có hình", en: "no picture" },
    version: { vi: "Phiên bản", en: "Version" },
    age: { vi: "Tuổi", en: "Age" },
    clockDrift: { vi: "Lệch đồng hồ", en: "Clock drift" },
    unknown: { vi: "không rõ", en: "unknown" },
    none: { vi: "không có", en: "none" },
    yes: { vi: "có", en: "yes" },
    no: { vi: "KHÔNG", en: "NO" },
    allReady: { vi: "Sẵn sàng: mọi camera hoạt động, dữ liệu xác thực mới", en: "Ready: every camera online, trust data fresh" },
    state_idle: { vi: "ĐANG CHỜ", en: "IDLE" },
    state_pass: { vi: "HỢP LỆ", en: "PASS" },
    state_flag: { vi: "CẢNH BÁO", en: "FLAG" },
    "state_out-of-service": { vi: "TẠM NGỪNG", en: "OUT OF SERVICE" },
  };

  var lang = null;
  try { lang = localStorage.getItem(LANG_KEY); } catch (e) { lang = null; }
  if (lang !== "vi" && lang !== "en") lang = null;
  var last = null;
  var lanesKey = "";

  function t(key) { var e = T[key]; return e ? e[lang || "vi"] : key; }
  function pick(text) { return text ? text[lang || "vi"] || text.en || "" : ""; }

  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") e.textContent = attrs[k];
      else e.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) e.appendChild(c); });
    return e;
  }
  function dl(pairs) {
    var d = el("dl");
    pairs.forEach(function (p) {
      if (p[1] === undefined || p[1] === null || p[1] === "") return;
      d.appendChild(el("dt", { text: t(p[0]) }));
      d.appendChild(el("dd", { text: String(p[1]) }));
    });
    return d;
  }
  function age(ms) {
    if (ms === undefined || ms === null) return t("never");
    var s = Math.round(ms / 1000);
    if (s < 120) return s + " s";
    if (s < 7200) return Math.round(s / 60) + " min";
    return (s / 3600).toFixed(1) + " h";
  }
  function pad(n) { return String(n).padStart(2, "0"); }
  // 24-hour local time, the same in both languages (no locale AM/PM).
  function time(epoch) { var d = new Date(epoch); return pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds()); }
  function dateTime(epoch) { var d = new Date(epoch); return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " + time(epoch); }
  function num(x) { return typeof x === "number" ? String(Math.round(x * 10) / 10) : undefined; }
  function pct(x) { return x === undefined || x === null ? undefined : Math.round(x * 1000) / 10 + " %"; }

  function acknowledge(lane, seq, button) {
    button.disabled = true;
    fetch("/api/lanes/" + encodeURIComponent(lane) + "/flags/" + seq + "/ack", { method: "POST", cache: "no-store" })
      .then(function () { lanesKey = ""; refresh(); })
      .catch(function () { button.disabled = false; });
  }

  function flagAlert(l) {
    var f = l.lastFlag;
    if (!f) return null;
    var button = el("button", { type: "button", class: "ack", "data-seq": String(f.seq), text: t("ack") });
    button.addEventListener("click", function () { acknowledge(l.lane, f.seq, button); });
    return el("div", { class: "flag-alert", "data-flag-seq": String(f.seq), role: "alert" }, [
      el("strong", { text: t("lastFlag") + " #" + f.seq }),
      el("p", { text: pick(f.text) }),
      el("p", { text: f.reason + (f.ruleId ? " (" + f.ruleId + ")" : "") + " · " + t("at") + " " + time(f.at) + " · " + t("camera") + " " + f.camera }),
      button,
    ]);
  }

  function renderLanes(lanes) {
    var key = lang + JSON.stringify(lanes);
    // Re-render only on change, so an Acknowledge button is not replaced under the officer's finger.
    if (key === lanesKey) return;
    lanesKey = key;
    var box = $("lanes");
    box.replaceChildren.apply(box, lanes.map(function (l) {
      var tl = l.telemetry || {};
      var v = l.verdict;
      return el("div", { class: "card s-" + l.state, "data-lane": l.lane, "data-state": l.state }, [
        el("h3", {}, [el("span", { text: l.name }), el("a", { href: "/lanes/" + encodeURIComponent(l.lane), text: t("display") })]),
        el("div", { class: "big", text: t("state_" + l.state) + (v ? " · " + v.reason : "") }),
        flagAlert(l),
        dl([
          ["problems", (l.problems || []).join(", ")],
          ["passFlag", l.counts.pass + " / " + l.counts.flag],
          ["readRate", pct(tl.readRate)],
          ["timeToVerdict", tl.firstSeenToVerdictMs ? "p50 " + Math.round(tl.firstSeenToVerdictMs.p50) + " ms · p99 " + Math.round(tl.firstSeenToVerdictMs.p99) + " ms" : undefined],
          ["framesTried", num(tl.framesTried)],
          ["readFailures", num(tl.readFailures)],
          ["cameras", l.cameras.join(", ")],
          ["displays", l.displays],
        ]),
      ]);
    }));
  }

  var snapshotTick = 0;
  function renderCameras(cams) {
    var box = $("cameras");
    var existing = {};
    Array.prototype.forEach.call(box.children, function (c) { existing[c.dataset.camera] = c; });
    var cards = cams.map(function (c) {
      var card = existing[c.id];
      if (!card) {
        var image = el("img", { alt: "snapshot " + c.id, hidden: "" });
        image.addEventListener("load", function () { image.hidden = false; card.querySelector(".nopic").hidden = true; });
        image.addEventListener("error", function () { image.hidden = true; card.querySelector(".nopic").hidden = false; });
        card = el("div", { "data-camera": c.id }, [el("h3"), image, el("div", { class: "nopic" }), el("div", { class: "info" })]);
      }
      // Frames that arrive but show nothing (a frozen or blank picture) are a camera that cannot see.
      card.className = "card " + (c.up && !c.pictureProblem ? "s-online" : "s-down");
      card.dataset.state = c.state;
      card.querySelector(".nopic").textContent = t("noPicture");
      card.querySelector("h3").replaceChildren(el("span", { text: c.id }), el("span", { text: c.state + (c.pictureProblem ? " · " + t(c.pictureProblem === "FROZEN" ? "pictureFrozen" : "pictureBlank") : "") }));
      card.querySelector(".info").replaceChildren(dl([
        ["lane", c.lane],
        ["fps", c.fpsIn.toFixed(1)],
        ["dropped", c.framesDropped],
        ["lastFrame", c.lastFrameAgeMs === undefined ? t("never") : age(c.lastFrameAgeMs) + " " + t("ago")],
        ["reconnects", c.reconnectsLastHour],
        ["stalls", c.stallsLastHour],
        ["sourceUrl", c.url],
      ]));
      var img = card.querySelector("img");
      var want = "/cameras/" + encodeURIComponent(c.id) + "/snapshot.jpg?t=" + snapshotTick;
      if (c.up && img.dataset.src !== want) { img.dataset.src = want; img.src = want; }
      if (!c.up) { img.hidden = true; img.removeAttribute("data-src"); card.querySelector(".nopic").hidden = false; }
      return card;
    });
    box.replaceChildren.apply(box, cards);
  }

  function renderRecent(recent) {
    var body = $("recent").tBodies[0];
    body.replaceChildren.apply(body, recent.map(function (r) {
      return el("tr", {}, [
        el("td", { text: time(r.at) }), el("td", { text: r.lane }), el("td", { text: r.camera }), el("td", { text: r.seq }),
        el("td", { class: r.verdict, text: r.verdict }), el("td", { text: r.reason + (r.ruleId ? " (" + r.ruleId + ")" : "") }),
        el("td", { class: "wide", text: r.format }), el("td", { class: "wide", text: r.frameToVerdictMs + " ms" }),
      ]);
    }));
  }

  function renderTrust(tr) {
    var badge = $("trust-badge");
    if (tr.error) { badge.className = "badge bad"; badge.textContent = t("trustUnavailable"); return; }
    badge.className = "badge " + (tr.stale || tr.clockUntrusted ? "bad" : "ok");
    // A wrong clock outranks freshness: no verdict can pass until someone fixes the time.
    badge.textContent = (tr.clockUntrusted ? t("clockWrong") + " · " : "") + t(tr.stale ? "trustStale" : "trustFresh") + " · " + age(tr.ageMs);
    var d = $("trust");
    var rows = [
      el("dt", { text: t("version") }), el("dd", { text: tr.version || t("none") }),
      el("dt", { text: t("age") }), el("dd", { text: age(tr.ageMs) }),
      el("dt", { text: t("refreshed") }), el("dd", { text: tr.refreshedAt ? dateTime(tr.refreshedAt) : t("never") }),
      el("dt", { text: t("clockDrift") }), el("dd", { text: tr.clockDriftMs === undefined ? t("unknown") : Math.round(tr.clockDriftMs / 1000) + " s" }),
    ];
    if (tr.clockUntrusted) rows.push(el("dt", { text: t("clockWrong") }), el("dd", { class: "FLAG", text: Math.round(tr.clockUntrusted.offsetMs / 1000) + " s (" + tr.clockUntrusted.basis + ")" }));
    d.replaceChildren.apply(d, rows);
    var body = $("sources").tBodies[0];
    body.replaceChildren.apply(body, tr.sources.map(function (s) {
      return el("tr", {}, [el("td", {}, [el("code", { text: s.source })]), el("td", { text: s.ok ? t("yes") : t("no") }), el("td", { text: s.keys }),
        el("td", { text: s.refreshedAt ? time(s.refreshedAt) : t("never") }), el("td", { text: s.error || "" })]);
    }));
  }

  function applyLang() {
    document.documentElement.lang = lang;
    Array.prototype.forEach.call(document.querySelectorAll("[data-t]"), function (e) { e.textContent = t(e.dataset.t); });
    $("lang").textContent = lang === "vi" ? "EN" : "VI";
    document.title = "checkpoint-gateway · " + (lang === "vi" ? "bảng điều khiển" : "officer dashboard");
  }

  function render(s) {
    if (!lang) lang = s.lang === "en" ? "en" : "vi";
    applyLang();
    $("gw").textContent = s.gateway.id;
    $("logout").hidden = s.auth === "open";
    var r = $("ready");
    r.className = "badge " + (s.ready.ready ? "ok" : "bad");
    r.textContent = t(s.ready.ready ? "ready" : "notReady");
    var items = s.ready.problems.map(function (p) { return el("li", { text: p.code + ": " + p.detail }); });
    if (items.length === 0) items.push(el("li", { text: t("allReady") }));
    $("problems").replaceChildren.apply($("problems"), items);
    renderLanes(s.lanes);
    renderCameras(s.cameras);
    renderRecent(s.recent);
    renderTrust(s.trust);
    document.body.dataset.loaded = "1";
  }

  var timer = null;
  function refresh() {
    if (timer) clearTimeout(timer);
    timer = null;
    fetch("/api/status", { cache: "no-store" })
      .then(function (res) {
        // The session expired: back to the login form.
        if (res.status === 401) { location.href = "/login"; throw new Error("signed out"); }
        if (!res.ok) throw new Error("HTTP " + res.status);
        return res.json();
      })
      .then(function (s) { $("conn").hidden = true; last = s; render(s); })
      .catch(function () { $("conn").hidden = false; })
      .finally(function () { if (!timer) timer = setTimeout(refresh, POLL_MS); });
  }

  $("lang").addEventListener("click", function () {
    lang = lang === "vi" ? "en" : "vi";
    try { localStorage.setItem(LANG_KEY, lang); } catch (e) { /* private mode: the choice lasts for this page only */ }
    lanesKey = "";
    if (last) render(last); else applyLang();
  });
  $("logout").addEventListener("click", function () {
    fetch("/logout", { method: "POST" }).finally(function () { location.href = "/login"; });
  });
  if (lang) applyLang();
  setInterval(function () { snapshotTick++; }, SNAPSHOT_MS);
  refresh();
})();
