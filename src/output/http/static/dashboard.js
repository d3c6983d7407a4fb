// Officer dashboard: polls /api/status once a second and re-renders; snapshots refresh every 2 s.
// Everything here is PII-free by construction: the API carries codes, counts and timings only.
"use strict";
(function () {
  var POLL_MS = 1000;
  var SNAPSHOT_MS = 2000;
  var $ = function (id) { return document.getElementById(id); };

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
      d.appendChild(el("dt", { text: p[0] }));
      d.appendChild(el("dd", { text: String(p[1]) }));
    });
    return d;
  }
  function age(ms) {
    if (ms === undefined || ms === null) return "never";
    var s = Math.round(ms / 1000);
    if (s < 120) return s + " s";
    if (s < 7200) return Math.round(s / 60) + " min";
    return (s / 3600).toFixed(1) + " h";
  }
  function time(epoch) { return new Date(epoch).toLocaleTimeString(); }
  function num(x) { return typeof x === "number" ? String(Math.round(x * 10) / 10) : undefined; }
  function pct(x) { return x === undefined || x === null ? undefined : Math.round(x * 1000) / 10 + " %"; }

  function renderLanes(lanes) {
    var box = $("lanes");
    box.replaceChildren.apply(box, lanes.map(function (l) {
      var t = l.telemetry || {};
      var v = l.verdict;
      return el("div", { class: "card s-" + l.state, "data-lane": l.lane, "data-state": l.state }, [
        el("h3", {}, [el("span", { text: l.name }), el("a", { href: "/lanes/" + encodeURIComponent(l.lane), text: "display ↗" })]),
        el("div", { class: "big", text: l.state.toUpperCase() + (v ? " · " + v.reason : "") }),
        dl([
          ["problems", (l.problems || []).join(", ")],
          ["pass / flag", l.counts.pass + " / " + l.counts.flag],
          ["read rate", pct(t.readRate)],
          ["time to verdict", t.firstSeenToVerdictMs ? "p50 " + Math.round(t.firstSeenToVerdictMs.p50) + " ms · p99 " + Math.round(t.firstSeenToVerdictMs.p99) + " ms" : undefined],
          ["frames tried", num(t.framesTried)],
          ["read failures", num(t.readFailures)],
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
        card = el("div", { "data-camera": c.id }, [el("h3"), image, el("div", { class: "nopic", text: "no picture" }), el("div", { class: "info" })]);
      }
      card.className = "card " + (c.up ? "s-online" : "s-down");
      card.dataset.state = c.state;
      card.querySelector("h3").replaceChildren(el("span", { text: c.id }), el("span", { text: c.state }));
      card.querySelector(".info").replaceChildren(dl([
        ["lane", c.lane],
        ["fps", c.fpsIn.toFixed(1)],
        ["dropped", c.framesDropped],
        ["last frame", c.lastFrameAgeMs === undefined ? "never" : age(c.lastFrameAgeMs) + " ago"],
        ["reconnects/h", c.reconnectsLastHour],
        ["stalls/h", c.stallsLastHour],
        ["source", c.url],
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
        el("td", { text: r.format }), el("td", { text: r.frameToVerdictMs + " ms" }),
      ]);
    }));
  }

  function renderTrust(t) {
    var badge = $("trust-badge");
    if (t.error) { badge.className = "badge bad"; badge.textContent = "trust unavailable"; return; }
    badge.className = "badge " + (t.stale ? "bad" : "ok");
    badge.textContent = "trust " + (t.stale ? "STALE" : "fresh") + " · " + age(t.ageMs);
    var d = $("trust");
    d.replaceChildren(
      el("dt", { text: "version" }), el("dd", { text: t.version || "none" }),
      el("dt", { text: "age" }), el("dd", { text: age(t.ageMs) }),
      el("dt", { text: "refreshed" }), el("dd", { text: t.refreshedAt ? new Date(t.refreshedAt).toLocaleString() : "never" }),
      el("dt", { text: "clock drift" }), el("dd", { text: t.clockDriftMs === undefined ? "unknown" : Math.round(t.clockDriftMs / 1000) + " s" }),
    );
    var body = $("sources").tBodies[0];
    body.replaceChildren.apply(body, t.sources.map(function (s) {
      return el("tr", {}, [el("td", {}, [el("code", { text: s.source })]), el("td", { text: s.ok ? "yes" : "NO" }), el("td", { text: s.keys }),
        el("td", { text: s.refreshedAt ? time(s.refreshedAt) : "never" }), el("td", { text: s.error || "" })]);
    }));
  }

  function render(s) {
    $("gw").textContent = s.gateway.id;
    var r = $("ready");
    r.className = "badge " + (s.ready.ready ? "ok" : "bad");
    r.textContent = s.ready.ready ? "ready" : "not ready";
    var items = s.ready.problems.map(function (p) { return el("li", { text: p.code + ": " + p.detail }); });
    if (items.length === 0) items.push(el("li", { text: "ready: every camera online, trust data fresh" }));
    $("problems").replaceChildren.apply($("problems"), items);
    renderLanes(s.lanes);
    renderCameras(s.cameras);
    renderRecent(s.recent);
    renderTrust(s.trust);
    document.body.dataset.loaded = "1";
  }

  function poll() {
    fetch("/api/status", { cache: "no-store" })
      .then(function (res) { if (!res.ok) throw new Error("HTTP " + res.status); return res.json(); })
      .then(function (s) { $("conn").hidden = true; render(s); })
      .catch(function () { $("conn").hidden = false; })
      .finally(function () { setTimeout(poll, POLL_MS); });
  }
  setInterval(function () { snapshotTick++; }, SNAPSHOT_MS);
  poll();
})();
