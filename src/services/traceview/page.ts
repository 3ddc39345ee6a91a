/**
 * The viewer's page: plain HTML, one script, SVG drawn in the browser (no framework, nothing
 * fetched from elsewhere). The script gets events from `/events` (server-sent events), draws one
 * lane per process and a column per socket in it, calls in the order they returned, and arrows for
 * connection set-up (connect → accept, matched by address), data (send → recv, matched by byte
 * offset in the stream), and tear-down (close → the peer's end of file or close).
 *
 * @module
 */

/**
 * The page (`GET /`).
 * @example `res.end(TRACE_VIEW_PAGE)`
 */
export const TRACE_VIEW_PAGE = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>sockit trace-view</title>
<style>
body { font: 13px system-ui, sans-serif; margin: 0; color: #222; }
header { background: #f4f4f4; border-bottom: 1px solid #ccc; padding: 6px 10px; z-index: 1; }
header button { margin-right: 4px; }
#filters label { margin-right: 10px; white-space: nowrap; }
#status { color: #555; margin-left: 8px; }
#view { padding: 8px; }
svg text { font: 12px ui-monospace, monospace; }
svg .proc { font: bold 13px system-ui, sans-serif; }
svg .err text { fill: #c00; }
svg .ev text.lbl { fill: #222; }
svg .err text.lbl { fill: #c00; }
</style>
</head>
<body>
<header>
<button id="pause">Pause</button><button id="step" disabled>Step</button>
<button id="svg">Export SVG</button><button id="png">Export PNG</button><button id="json">Export JSON</button>
<span id="status">waiting for events…</span>
<div id="filters"></div>
</header>
<div id="view"></div>
<script src="app.js"></script>
</body>
</html>
`;

/**
 * The page's script (`GET /app.js`).
 * @example `res.end(TRACE_VIEW_APP)`
 */
export const TRACE_VIEW_APP = String.raw`"use strict";
(function () {
  var NS = "http://www.w3.org/2000/svg";
  var COL = 250, ROW = 22, TOP = 64, LEFT = 10;
  var shown = [];      // events drawn
  var pending = [];    // events that came while paused
  var paused = false;
  var hidden = {};     // "p:PID" or "s:PID:SOCK" -> true
  var dropped = {};    // pid -> count the exporter reported
  var mode = "live";

  function key(e) { return e.pid + ":" + e.sock; }
  function end(e) { return e.t + e.dur; }
  function el(name, attrs, text) {
    var n = document.createElementNS(NS, name);
    for (var k in attrs) n.setAttribute(k, attrs[k]);
    if (text !== undefined) n.textContent = text;
    return n;
  }
  function bytesOf(hex) {
    var out = [];
    for (var i = 0; i + 1 < hex.length; i += 2) out.push(parseInt(hex.slice(i, i + 2), 16));
    return out;
  }
  function textOf(hex) {
    return bytesOf(hex).map(function (c) {
      if (c === 10) return "\\n";
      if (c === 13) return "\\r";
      if (c === 9) return "\\t";
      if (c >= 32 && c < 127) return String.fromCharCode(c);
      return "\\x" + (c < 16 ? "0" : "") + c.toString(16);
    }).join("");
  }
  function label(e) {
    var args = (e.fd >= 0 && e.call !== "socket" ? [String(e.fd)] : []).concat(e.args);
    var head = e.call + "(" + args.join(", ") + ")";
    if (e.error) return head + " = -1 " + e.error.code + " (" + e.error.name + ")";
    return head + " = " + (e.result === undefined ? "" : e.result);
  }
  function short(s, n) { return s.length > n ? s.slice(0, n - 1) + "…" : s; }
  function addrOfResult(s) {
    var m = /\('([^']*)', (\d+)/.exec(s || "");
    return m ? [m[1], Number(m[2])] : undefined;
  }
  function isSend(e) { return !e.error && e.len !== undefined && /^(send|sendall|write)$/.test(e.call); }
  function isRecv(e) { return !e.error && e.len !== undefined && /^(recv|recv_into|read)$/.test(e.call); }

  // connections: connect in one process -> accept in another, by the listener's port and, when
  // the client asked getsockname, its own address
  function links(evs) {
    var listenPort = {}, localAddr = {}, arrows = [], peer = {};
    evs.forEach(function (e) {
      if (e.error) return;
      if (e.call === "bind" && e.addr && e.addr[1] !== 0) listenPort[key(e)] = e.addr[1];
      if (e.call === "getsockname") {
        var a = addrOfResult(e.result);
        if (a) { localAddr[key(e)] = a; if (listenPort[key(e)] === undefined || listenPort[key(e)] === 0) listenPort[key(e)] = a[1]; }
      }
    });
    var accepts = evs.filter(function (e) { return e.call === "accept" && !e.error && e.addr && e.newSock !== undefined; });
    var used = {};
    evs.forEach(function (c) {
      if (c.call !== "connect" || c.error || !c.addr) return;
      var best;
      accepts.forEach(function (a, i) {
        if (used[i] || a.pid === c.pid && a.sock === c.sock) return;
        if (listenPort[key(a)] !== c.addr[1]) return;
        var mine = localAddr[key(c)];
        var exact = mine && a.addr[0] === mine[0] && a.addr[1] === mine[1];
        if (best === undefined || exact && !best.exact) best = { i: i, exact: !!exact };
      });
      if (best === undefined) return;
      used[best.i] = true;
      var a = accepts[best.i];
      var server = a.pid + ":" + a.newSock;
      peer[key(c)] = server; peer[server] = key(c);
      arrows.push({ from: c, to: a, kind: "setup" });
    });
    // data: a send covers [off, off+len) of its stream; it points at the recv holding its first byte
    var sent = {}, got = {}, recvs = {};
    evs.forEach(function (e) {
      if (isRecv(e)) {
        var k = key(e), o = got[k] || 0;
        (recvs[k] = recvs[k] || []).push({ e: e, from: o, to: o + e.len });
        got[k] = o + e.len;
      }
    });
    evs.forEach(function (e) {
      var k = key(e), p = peer[k];
      if (isSend(e) && p) {
        var o = sent[k] || 0;
        sent[k] = o + e.len;
        (recvs[p] || []).forEach(function (r) {
          if (r.e.len > 0 && r.from <= o && o < r.to) arrows.push({ from: e, to: r.e, kind: "data" });
        });
      }
      if (e.call === "close" && p) {
        var eof = (recvs[p] || []).filter(function (r) { return r.e.len === 0; })[0];
        var target = eof ? eof.e : evs.filter(function (x) { return key(x) === p && x.call === "close"; })[0];
        if (target) arrows.push({ from: e, to: target, kind: "teardown" });
      }
    });
    return arrows;
  }

  function visible(e) { return !hidden["p:" + e.pid] && !hidden["s:" + key(e)]; }

  function draw() {
    var evs = shown.filter(visible);
    var procs = [], procOf = {}, cols = {}, ncol = 0;
    evs.forEach(function (e) {
      if (procOf[e.pid] === undefined) { procOf[e.pid] = { pid: e.pid, proc: e.proc, socks: [] }; procs.push(procOf[e.pid]); }
    });
    procs.forEach(function (p) {
      evs.forEach(function (e) {
        if (e.pid === p.pid && cols[key(e)] === undefined) { cols[key(e)] = ncol++; p.socks.push(e); }
      });
    });
    var width = LEFT * 2 + Math.max(1, ncol) * COL;
    var height = TOP + evs.length * ROW + 30;
    var svg = el("svg", { xmlns: NS, id: "diagram", width: width, height: height, viewBox: "0 0 " + width + " " + height });
    svg.appendChild(el("rect", { x: 0, y: 0, width: width, height: height, fill: "#fff" }));
    var defs = el("defs", {});
    [["setup", "#1565c0"], ["data", "#2e7d32"], ["teardown", "#777"]].forEach(function (m) {
      var mk = el("marker", { id: "arrow-" + m[0], viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" });
      mk.appendChild(el("path", { d: "M0,0 L10,5 L0,10 z", fill: m[1] }));
      defs.appendChild(mk);
    });
    svg.appendChild(defs);
    var x = function (e) { return LEFT + cols[key(e)] * COL + 14; };
    procs.forEach(function (p, pi) {
      var first = cols[key(p.socks[0])], n = p.socks.length;
      var g = el("g", { "class": "lane", "data-pid": p.pid, "data-proc": p.proc });
      g.appendChild(el("rect", { x: LEFT + first * COL + 2, y: 4, width: n * COL - 4, height: height - 8, rx: 6,
        fill: pi % 2 ? "#f7f9fc" : "#fbf8f3", stroke: "#ccc" }));
      g.appendChild(el("text", { "class": "proc", x: LEFT + first * COL + 10, y: 22 }, p.proc + " (pid " + p.pid + ")" +
        (dropped[p.pid] ? " — " + dropped[p.pid] + " events dropped" : "")));
      p.socks.forEach(function (s) {
        var cx = x(s);
        g.appendChild(el("text", { "class": "sockhead", x: cx - 6, y: 44 }, s.sock === 0 ? "(no socket)" : "socket #" + s.sock + " (fd " + s.fd + ")"));
        g.appendChild(el("line", { x1: cx, y1: 50, x2: cx, y2: height - 10, stroke: "#bbb", "stroke-dasharray": "3 3" }));
      });
      svg.appendChild(g);
    });
    var row = new Map();
    evs.forEach(function (e, i) { row.set(e, TOP + i * ROW); });
    links(evs).forEach(function (a) {
      var colr = a.kind === "setup" ? "#1565c0" : a.kind === "data" ? "#2e7d32" : "#777";
      var line = el("line", { "class": "arrow " + a.kind, x1: x(a.from), y1: row.get(a.from), x2: x(a.to), y2: row.get(a.to),
        stroke: colr, "stroke-width": 1.5, "marker-end": "url(#arrow-" + a.kind + ")",
        "data-from": a.from.proc + ":" + a.from.call, "data-to": a.to.proc + ":" + a.to.call });
      if (a.kind === "teardown") line.setAttribute("stroke-dasharray", "5 3");
      if (a.kind === "data") line.appendChild(el("title", {}, a.from.len + " bytes: " + textOf(a.from.hex || "")));
      svg.appendChild(line);
    });
    evs.forEach(function (e) {
      var y = row.get(e), cx = x(e);
      var g = el("g", { "class": "ev" + (e.error ? " err" : ""), "data-pid": e.pid, "data-proc": e.proc, "data-sock": e.sock, "data-call": e.call });
      g.appendChild(el("circle", { cx: cx, cy: y, r: 4, fill: e.error ? "#c00" : "#333" }));
      var text = label(e);
      g.appendChild(el("text", { "class": "lbl", x: cx + 8, y: y + 4 }, short(text, 30)));
      var tip = text + "\n" + new Date(e.t).toISOString() + " +" + e.dur.toFixed(3) + " ms";
      if (e.error) tip += "\n" + e.error.name + " [errno " + e.error.errno + "]: " + e.error.message;
      if (e.len !== undefined) tip += "\n" + e.len + " bytes; first " + (e.hex || "").length / 2 + ":\n" + textOf(e.hex || "") + "\nhex: " + (e.hex || "");
      g.appendChild(el("title", {}, tip));
      svg.appendChild(g);
    });
    var view = document.getElementById("view");
    view.replaceChildren(svg);
    var total = Object.keys(dropped).reduce(function (s, k) { return s + dropped[k]; }, 0);
    document.getElementById("status").textContent = (mode === "replay" ? "replay: " : "live: ") + shown.length + " calls" +
      (pending.length ? ", " + pending.length + " waiting (paused)" : "") + (total ? ", " + total + " dropped by exporters" : "");
    filters();
  }

  function filters() {
    var box = document.getElementById("filters"), seen = {}, parts = [];
    shown.forEach(function (e) {
      if (!seen["p:" + e.pid]) { seen["p:" + e.pid] = 1; parts.push(["p:" + e.pid, e.proc + " (" + e.pid + ")"]); }
      if (!seen["s:" + key(e)]) { seen["s:" + key(e)] = 1; parts.push(["s:" + key(e), "  #" + e.sock]); }
    });
    if (box.childElementCount === parts.length) return;
    box.replaceChildren();
    parts.forEach(function (p) {
      var l = document.createElement("label"), c = document.createElement("input");
      c.type = "checkbox"; c.checked = !hidden[p[0]]; c.dataset.key = p[0];
      c.addEventListener("change", function () { hidden[p[0]] = !c.checked; draw(); });
      l.append(c, " " + p[1]);
      box.appendChild(l);
    });
  }

  function add(list) {
    if (paused) { pending.push.apply(pending, list); }
    else { shown.push.apply(shown, list); shown.sort(function (a, b) { return end(a) - end(b); }); }
    draw();
  }

  function download(name, type, data) {
    var a = document.createElement("a");
    a.href = URL.createObjectURL(new Blob([data], { type: type }));
    a.download = name;
    document.body.appendChild(a); a.click(); a.remove();
    setTimeout(function () { URL.revokeObjectURL(a.href); }, 1000);
  }
  function svgText() { return new XMLSerializer().serializeToString(document.getElementById("diagram")); }

  document.getElementById("pause").addEventListener("click", function () {
    paused = !paused;
    this.textContent = paused ? "Resume" : "Pause";
    document.getElementById("step").disabled = !paused;
    if (!paused) { var p = pending; pending = []; add(p); } else draw();
  });
  document.getElementById("step").addEventListener("click", function () {
    pending.sort(function (a, b) { return end(a) - end(b); });
    var e = pending.shift();
    if (e) { shown.push(e); shown.sort(function (a, b) { return end(a) - end(b); }); }
    draw();
  });
  document.getElementById("svg").addEventListener("click", function () { download("trace.svg", "image/svg+xml", svgText()); });
  document.getElementById("json").addEventListener("click", function () {
    download("trace.json", "application/json", JSON.stringify(shown.concat(pending), null, 1));
  });
  document.getElementById("png").addEventListener("click", function () {
    var svg = document.getElementById("diagram"), img = new Image();
    img.onload = function () {
      var c = document.createElement("canvas");
      c.width = Number(svg.getAttribute("width")); c.height = Number(svg.getAttribute("height"));
      c.getContext("2d").drawImage(img, 0, 0);
      c.toBlob(function (b) { if (b) download("trace.png", "image/png", b); }, "image/png");
    };
    img.src = "data:image/svg+xml;charset=utf-8," + encodeURIComponent(svgText());
  });

  var src = new EventSource("events");
  src.addEventListener("batch", function (m) {
    var b = JSON.parse(m.data);
    mode = b.mode || mode;
    for (var pid in b.dropped || {}) dropped[pid] = b.dropped[pid];
    add(b.events || []);
  });
  window.traceView = { shown: function () { return shown; }, links: function () { return links(shown.filter(visible)); } };
})();
`;
