/**
 * The viewer's page: plain HTML, one script, SVG drawn in the browser (no framework, nothing
 * fetched from elsewhere). The script gets events from `/events` (server-sent events), draws one
 * lane per process and a column per socket in it, calls in the order they returned (but never a
 * receiving call above the call that sent to it: see `causal`), and arrows for
 * connection set-up (connect → accept, matched by address), data (send → recv, matched by byte
 * offset in the stream), tear-down (close → the peer's end of file or close) and datagrams
 * (sendto → recvfrom, matched by bytes, ports and order). Each socket is named by its role where
 * the calls tell it (listening, UDP, HTTP, SMTP, IRC, FTP control and FTP data). A `skipped`
 * record (calls over the exporter's rate budget, counted) is drawn as one row in its socket's
 * lane, and its bytes keep the offsets of the calls after it right. The page keeps the
 * last 2000 calls (`?keep=N`) and says how many older ones it dropped. "Group repeats"
 * (`?group=1`) draws a socket's repeated datagrams to or from one address as one row (`×N`).
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
#older { color: #b35c00; }
#view { padding: 8px; }
</style>
</head>
<body>
<header>
<button id="pause">Pause</button><button id="step" disabled>Step</button>
<label><input type="checkbox" id="group"> Group repeats</label>
<button id="svg">Export SVG</button><button id="png">Export PNG</button><button id="json">Export JSON</button>
<span id="status">waiting for events…</span> <span id="older"></span>
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
  var COL = 250, ROW = 22, TOP = 78, LEFT = 10;
  var COLOURS = { setup: "#1565c0", data: "#2e7d32", teardown: "#777", datagram: "#e65100" };
  // the page keeps the last KEEP calls (?keep=N: 100 to 100000) so that a chatty program (a game
  // sends 20 datagrams a second to each player) leaves it responsive; older ones are counted
  var KEEP = (function () {
    var n = Number(new URLSearchParams(location.search).get("keep"));
    return Number.isInteger(n) && n >= 100 && n <= 100000 ? n : 2000;
  })();
  var older = 0;       // calls dropped here to stay within KEEP
  var drawing = 0;     // a draw is scheduled
  var shown = [];      // events drawn
  var pending = [];    // events that came while paused
  var paused = false;
  var hidden = {};     // "p:PID" or "s:PID:SOCK" -> true
  var dropped = {};    // pid -> count the exporter reported
  var mode = "live";
  var grouping = new URLSearchParams(location.search).get("group") === "1";

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
    // calls the exporter's rate budget did not send, counted (SOCKIT_TRACE_RATE)
    if (e.call === "skipped") return "… " + e.args[0] + " calls not traced: " + e.args[1] + " bytes sent, " + e.args[2] + " received";
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
  function isRecv(e) { return !e.error && e.len !== undefined && /^(recv|recv_into|read|readline)$/.test(e.call); }

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
    var used = {}, dgram = {};
    for (var fk in facts.sock) {
      if (facts.sock[fk].dgram) dgram[fk] = true;
      if (facts.sock[fk].lport !== undefined && listenPort[fk] === undefined) listenPort[fk] = facts.sock[fk].lport;
    }
    // a listener bound to port 0 that never asked getsockname: its port is learnt from the first
    // connect it takes (an accept that returned after the connect started)
    evs.forEach(function (c) {
      if (c.call !== "connect" || c.error || !c.addr || dgram[key(c)]) return;
      var best, score = 0;
      accepts.forEach(function (a, i) {
        if (used[i] || a.pid === c.pid && a.sock === c.sock) return;
        var port = listenPort[key(a)];
        if (port !== undefined && port !== c.addr[1]) return;
        if (port === undefined && end(a) < c.t) return;
        var mine = localAddr[key(c)];
        var exact = mine && a.addr[0] === mine[0] && a.addr[1] === mine[1];
        var sc = (port === undefined ? 1 : 3) + (exact ? 1 : 0);
        if (sc > score) { best = i; score = sc; }
      });
      if (best === undefined) return;
      used[best] = true;
      var a = accepts[best];
      if (listenPort[key(a)] === undefined) listenPort[key(a)] = c.addr[1];
      var server = a.pid + ":" + a.newSock;
      peer[key(c)] = server; peer[server] = key(c);
      arrows.push({ from: c, to: a, kind: "setup" });
    });
    // data: a send covers [off, off+len) of its stream; it points at the recv holding its first byte
    // (offsets are counted as calls arrive, so they stay right when the page drops older calls)
    var recvs = {}, fin = {};
    for (var pk in facts.peer) if (peer[pk] === undefined) peer[pk] = facts.peer[pk];
    for (var qk in peer) facts.peer[qk] = peer[qk];
    evs.forEach(function (e) {
      var o = offs.get(e);
      if (isRecv(e) && o !== undefined) (recvs[key(e)] = recvs[key(e)] || []).push({ e: e, from: o, to: o + e.len });
    });
    evs.forEach(function (e) {
      var k = key(e), p = peer[k], o = offs.get(e);
      if (isSend(e) && p && o !== undefined) {
        (recvs[p] || []).forEach(function (r) {
          if (r.e.len > 0 && r.from <= o && o < r.to) arrows.push({ from: e, to: r.e, kind: "data" });
        });
      }
      // tear-down: the first shutdown(SHUT_WR or SHUT_RDWR) or close sends the FIN; it points at
      // the peer's end of file (recv = 0), else at the peer's close
      var ends = e.call === "close" || e.call === "shutdown" && !e.error && /SHUT_(WR|RDWR)/.test(e.args.join(" "));
      if (ends && p && !fin[k]) {
        fin[k] = true;
        var eof = (recvs[p] || []).filter(function (r) { return r.e.len === 0; })[0];
        var target = eof ? eof.e : evs.filter(function (x) { return key(x) === p && x.call === "close"; })[0];
        if (target) arrows.push({ from: e, to: target, kind: "teardown" });
      }
    });
    var all = arrows.concat(datagrams(evs, localAddr, dgram));
    all.ports = listenPort;
    return all;
  }

  // datagrams: a sendto (or a send on a connected datagram socket) points at the recvfrom that got
  // it: in another socket, same bytes (a truncated datagram: a prefix), not earlier, addressed to
  // the receiver's port and coming from the sender's port where those are known (a match teaches
  // the sender's port, so the reply finds its way back); lost datagrams get no arrow
  function portOf(a) { return a ? a[1] : undefined; }
  function destOf(e, connected) {
    if (e.call === "sendto") return e.addr || addrOfResult(e.args[e.args.length - 1]);
    return connected[key(e)];
  }
  function datagrams(evs, known, dgram) {
    var connected = {}, local = {}, out = [];
    for (var k in known) local[k] = known[k];
    for (var fk in facts.sock) if (local[fk] === undefined && facts.sock[fk].lport !== undefined) local[fk] = ["", facts.sock[fk].lport];
    evs.forEach(function (e) {
      var k = key(e);
      if (e.error) return;
      if (e.call === "bind" && e.addr && e.addr[1] !== 0) local[k] = local[k] || e.addr;
      if (e.call === "connect" && e.addr) connected[k] = e.addr;
    });
    var byBytes = {}, recvs = [];
    evs.forEach(function (e) {
      if (e.error || e.call !== "recvfrom" || e.len === undefined || !dgram[key(e)]) return;
      var r = { e: e, used: false };
      recvs.push(r);
      var b = e.len + ":" + (e.hex || "");
      (byBytes[b] = byBytes[b] || []).push(r);
    });
    if (recvs.length === 0) return out;
    for (var ck in facts.sock) if (connected[ck] === undefined && facts.sock[ck].conn) connected[ck] = facts.sock[ck].conn;
    var sends = evs.filter(function (s) {
      return !s.error && s.len !== undefined && dgram[key(s)] && /^(sendto|send|sendall)$/.test(s.call);
    });

    // a datagram whose receiver could be one of several sockets of unknown port waits for a later
    // pass, when other matches have taught those ports (a game server sends the same snapshot to
    // every player); the last pass takes the earliest
    for (var pass = 0; pass < 3 && sends.length > 0; pass++) {
      var later = [];
      sends.forEach(function (s) {
        var k = key(s);
        var to = portOf(destOf(s, connected)), from = portOf(local[k]);
        var fits = function (r) {
          var rk = key(r.e);
          if (r.used || rk === k || end(r.e) < s.t) return 0;
          if (from !== undefined && portOf(r.e.addr) !== from) return 0;
          var mine = portOf(local[rk]);
          if (to !== undefined && mine !== undefined) return mine === to ? 2 : 0;
          return 1;
        };
        var pick = function (list) {
          var best, score = 0, socks = {}, n = 0;
          for (var i = 0; i < list.length; i++) {
            var f = fits(list[i]);
            if (f === 2) return { r: list[i], sure: true, exact: true };
            if (f === 1) {
              if (!best) best = list[i];
              if (!socks[key(list[i].e)]) { socks[key(list[i].e)] = true; n++; }
              score = 1;
            }
          }
          return score ? { r: best, sure: n === 1 } : undefined;
        };
        var got = pick(byBytes[s.len + ":" + (s.hex || "")] || []);
        if (!got) {
          // truncated: the receiver got a prefix of the datagram
          got = pick(recvs.filter(function (r) {
            return r.e.len < s.len && (s.hex || "").slice(0, (r.e.hex || "").length) === (r.e.hex || "");
          }));
        }
        if (!got) return; // lost
        // a socket that sends the same bytes to several addresses (a game server's snapshot to
        // every player): the only receiver left for such a datagram (the others' copies lost, or
        // no longer kept) is a guess, not a match to learn a port from
        if (got.sure && !got.exact && (facts.sock[k] || {}).fanout) got.sure = false;
        if (!got.sure && pass < 2) { later.push(s); return; }
        var best = got.r;
        best.used = true;
        // what a sure match teaches is kept: the ports of sockets bound to port 0
        if (!got.sure) return out.push({ from: s, to: best.e, kind: "datagram" });
        if (local[k] === undefined && best.e.addr) { local[k] = best.e.addr; sockFacts(k).lport = best.e.addr[1]; }
        if (local[key(best.e)] === undefined && to !== undefined) { local[key(best.e)] = destOf(s, connected); sockFacts(key(best.e)).lport = to; }
        out.push({ from: s, to: best.e, kind: "datagram" });
      });
      sends = later;
    }
    return out;
  }

  // what each socket is, said in words where the calls tell it: listening, accepted, connected,
  // UDP; the protocol its first bytes speak (HTTP, SMTP, IRC, FTP control); and for FTP, the data
  // connection, found by the port a 227/229 reply (PASV/EPSV) or a PORT/EPRT command named. The
  // facts are gathered from every call as it arrives, so they outlive the calls the page drops.
  var facts = { sock: {}, order: [], dataPorts: {}, lane: {}, peer: {}, sent: {}, got: {}, skipped: 0 };
  var offs = new WeakMap(); // send/recv -> its offset in its socket's stream
  var observed = new WeakSet();
  // the diagram's own style, inside the SVG, so that an exported SVG or PNG looks like the page
  var SVG_CSS = "text { font: 12px ui-monospace, monospace; } .proc { font: bold 13px system-ui, sans-serif; }" +
    " text.sockrole { font-size: 11px; fill: #555; } .ev text.lbl { fill: #222; } .err text.lbl { fill: #c00; }";
  function sockFacts(k) {
    var f = facts.sock[k];
    if (!f) { f = facts.sock[k] = { texts: [] }; facts.order.push(k); }
    return f;
  }
  function observe(e) {
    var k = key(e), f = sockFacts(k), lane = facts.lane[e.pid] = facts.lane[e.pid] || {};
    if (isSend(e)) { offs.set(e, facts.sent[k] || 0); facts.sent[k] = (facts.sent[k] || 0) + e.len; }
    if (isRecv(e)) { offs.set(e, facts.got[k] || 0); facts.got[k] = (facts.got[k] || 0) + e.len; }
    // the bytes of calls not traced still count: the calls after them keep their offsets
    if (e.call === "skipped" && !e.error) {
      facts.sent[k] = (facts.sent[k] || 0) + (Number(e.args[1]) || 0);
      facts.got[k] = (facts.got[k] || 0) + (Number(e.args[2]) || 0);
      facts.skipped += Number(e.args[0]) || 0;
    }
    if (e.call === "socket" && e.args.indexOf("SOCK_DGRAM") >= 0 || e.call === "sendto" || e.call === "recvfrom" && e.addr) f.dgram = true;
    if (e.error) return;
    if (e.call === "bind" && e.addr && e.addr[1] !== 0) { f.lport = e.addr[1]; lane.server = true; }
    if (e.call === "getsockname" && f.lport === undefined) { var a = addrOfResult(e.result); if (a && a[1] !== 0) f.lport = a[1]; }
    if (e.call === "listen") { f.listening = true; lane.server = true; }
    if (e.call === "connect" && e.addr) { f.conn = e.addr; lane.client = true; }
    if (e.call === "sendto" && e.len !== undefined) {
      // the same bytes as this socket's last datagram, to another address: it fans out
      var out = e.len + ":" + (e.hex || ""), to = String(destOf(e, {}));
      if (f.lastOut && f.lastOut.bytes === out && f.lastOut.to !== to) f.fanout = true;
      f.lastOut = { bytes: out, to: to };
    }
    if (e.call === "accept" && e.newSock !== undefined) sockFacts(e.pid + ":" + e.newSock).from = { addr: e.addr, listener: k };
    if (f.first === undefined && /^(sendto|send|sendall|recvfrom)$/.test(e.call)) {
      f.first = e.call;
      if (e.call === "recvfrom") lane.server = true; else lane.client = true;
    }
    if (!(e.len > 0 && e.hex)) return;
    var t = textOf(e.hex).replace(/\\r\\n/g, "\n").replace(/\\n/g, "\n");
    if (f.texts.length < 16) f.texts.push(t);
    var m = /^227 [^(]*\((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)/m.exec(t);
    if (m) facts.dataPorts[Number(m[5]) * 256 + Number(m[6])] = "PASV";
    m = /^229 [^(]*\(\|\|\|(\d+)\|\)/m.exec(t);
    if (m) facts.dataPorts[Number(m[1])] = "EPSV";
    m = /^PORT \d+,\d+,\d+,\d+,(\d+),(\d+)/m.exec(t);
    if (m) facts.dataPorts[Number(m[1]) * 256 + Number(m[2])] = "PORT";
    m = /^EPRT \|\d\|[^|]*\|(\d+)\|/m.exec(t);
    if (m) facts.dataPorts[Number(m[1])] = "EPRT";
  }
  function roles(learnt) {
    // listener ports learnt from the connects they took (a listener bound to port 0)
    for (var lk in learnt || {}) if (facts.sock[lk] && facts.sock[lk].lport === undefined) facts.sock[lk].lport = learnt[lk];
    var out = {}, dp = facts.dataPorts;
    facts.order.forEach(function (k) {
      var f = facts.sock[k], all = f.texts.join("\n"), first = f.texts[0] || "", what = [], proto;
      var from = f.from, lis = from ? facts.sock[from.listener] : undefined;
      var dataVia = f.conn ? dp[f.conn[1]] : lis && lis.lport !== undefined ? dp[lis.lport] : undefined;
      if (dataVia) proto = "FTP data (" + dataVia + ")";
      else if (f.listening && f.lport !== undefined && dp[f.lport]) proto = "FTP data listener (" + dp[f.lport] + ")";
      else if (/^(GET|HEAD|POST|PUT|DELETE|OPTIONS) \S+ HTTP\/1|^HTTP\/1\.[01] \d{3}/.test(first)) proto = "HTTP";
      else if (/^(PASV|EPSV|PORT|EPRT|RETR|STOR|LIST|NLST|PWD|CWD|TYPE)\b/m.test(all) || /^2(27|29) /m.test(all) || /^220[ -].*FTP/i.test(first)) proto = "FTP control";
      else if (/^(EHLO|HELO|MAIL FROM:)/m.test(all) || /^220[ -].*SMTP/i.test(first)) proto = "SMTP";
      else if (/^NICK /m.test(all) || /^:\S+ 001 /m.test(all)) proto = "IRC";
      if (proto) what.push(proto);
      if (f.listening) what.push("listening" + (f.lport !== undefined ? " :" + f.lport : ""));
      else if (f.dgram) what.push("UDP" + (f.lport !== undefined ? " :" + f.lport : ""));
      if (from && from.addr) what.push("from " + from.addr[0] + ":" + from.addr[1]);
      else if (f.conn) what.push("to " + f.conn[0] + ":" + f.conn[1]);
      out[k] = what.join(" · ");
    });
    return out;
  }
  // a server listens, or binds a port of its own, or its datagram socket receives before it
  // sends; a client connects, or sends first
  function laneRole(pid) {
    var l = facts.lane[pid] || {};
    return l.server ? "server" : l.client ? "client" : "";
  }

  // grouping: a socket's datagram calls (sendto, recvfrom; send and recv on a datagram socket)
  // of one name to or from one address, with no other call of that socket between them, are one
  // row, drawn where the first of them returned; any other call of the socket ends its groups
  function peerOf(e) {
    if (e.call === "sendto") { var a = destOf(e, {}); return a ? a[0] + ":" + a[1] : ""; }
    return e.addr ? e.addr[0] + ":" + e.addr[1] : "";
  }
  function groups(evs) {
    var head = new Map(), count = new Map(), last = new Map(), open = {};
    evs.forEach(function (e) {
      var k = key(e), f = facts.sock[k] || {};
      var dg = !e.error && (e.call === "sendto" || e.call === "recvfrom" || f.dgram && /^(send|recv)$/.test(e.call));
      if (!grouping || !dg) { open[k] = {}; head.set(e, e); return; }
      var gk = e.call + " " + peerOf(e), mine = open[k] = open[k] || {}, h = mine[gk];
      if (!h) { mine[gk] = e; head.set(e, e); count.set(e, 1); last.set(e, e); return; }
      head.set(e, h); count.set(h, count.get(h) + 1); last.set(h, e);
    });
    return { head: head, count: count, last: last };
  }
  // arrows between grouped calls: one per pair of rows and kind, counted
  function mergeArrows(arrows, head) {
    var seen = new Map(), out = [];
    out.ports = arrows.ports;
    arrows.forEach(function (a) {
      var from = head.get(a.from) || a.from, to = head.get(a.to) || a.to;
      var byTo = seen.get(from) || new Map(), byKind = byTo.get(to) || {}, m = byKind[a.kind];
      seen.set(from, byTo);
      byTo.set(to, byKind);
      if (m) { m.n++; return; }
      m = byKind[a.kind] = { from: from, to: to, kind: a.kind, n: 1 };
      out.push(m);
    });
    return out;
  }

  // the rows: calls in the order they returned, except that a call never stands above the call
  // whose bytes, datagram, connection or end of file it got. A process reads the time after its
  // call returns; a sender the kernel sets aside just after its send (the receiver, woken, takes
  // its CPU) reads it after the receiver has got the bytes and even answered. So each process
  // keeps its own order, a receiving call waits for its sender's row, and the times decide the
  // rest. (Two closes pointing at each other order nothing; should the arrows ever go round in a
  // circle, the earliest of the calls that come next in their processes is drawn first.)
  function causal(evs, arrows) {
    var n = evs.length, at = new Map(), waits = [], succ = [], runs = {}, pos = {}, placed = [], out = [];
    evs.forEach(function (e, i) {
      at.set(e, i); waits.push(0); succ.push([]); placed.push(false);
      var r = runs[e.pid];
      if (!r) { r = runs[e.pid] = []; pos[e.pid] = 0; }
      if (r.length) { succ[r[r.length - 1]].push(i); waits[i]++; }
      r.push(i);
    });
    arrows.forEach(function (a) {
      if (a.kind === "teardown" && a.to.call === "close") return;
      var i = at.get(a.from), j = at.get(a.to);
      if (i === undefined || j === undefined || i === j) return;
      succ[i].push(j); waits[j]++;
    });
    // a binary heap of ready calls, earliest return first
    var heap = [];
    function push(i) {
      var k = heap.length; heap.push(i);
      while (k > 0) { var up = (k - 1) >> 1; if (heap[up] <= i) break; heap[k] = heap[up]; k = up; }
      heap[k] = i;
    }
    function pop() {
      var top = heap[0], last = heap.pop();
      if (heap.length) {
        var k = 0, m = heap.length;
        for (;;) {
          var c = 2 * k + 1;
          if (c >= m) break;
          if (c + 1 < m && heap[c + 1] < heap[c]) c++;
          if (heap[c] >= last) break;
          heap[k] = heap[c]; k = c;
        }
        heap[k] = last;
      }
      return top;
    }
    function place(i) {
      placed[i] = true; out.push(evs[i]); pos[evs[i].pid]++;
      succ[i].forEach(function (j) { if (--waits[j] === 0 && !placed[j]) push(j); });
    }
    for (var i = 0; i < n; i++) if (waits[i] === 0) push(i);
    while (out.length < n) {
      // (a call enters the heap once, when its last wait ends; a circle is broken only when the heap is empty)
      if (heap.length) { place(pop()); continue; }
      // a circle: the earliest call that is next in its process goes first
      var best = -1;
      for (var pid in runs) {
        var next = runs[pid][pos[pid]];
        if (next !== undefined && (best < 0 || next < best)) best = next;
      }
      place(best);
    }
    return out;
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
    var arrows = links(evs), role = roles(arrows.ports);
    evs = causal(evs, arrows);
    var g0 = groups(evs);
    evs = evs.filter(function (e) { return g0.head.get(e) === e; });
    arrows = mergeArrows(arrows, g0.head);
    var width = LEFT * 2 + Math.max(1, ncol) * COL;
    var height = TOP + evs.length * ROW + 30;
    var svg = el("svg", { xmlns: NS, id: "diagram", width: width, height: height, viewBox: "0 0 " + width + " " + height });
    svg.appendChild(el("style", {}, SVG_CSS));
    svg.appendChild(el("rect", { x: 0, y: 0, width: width, height: height, fill: "#fff" }));
    var defs = el("defs", {});
    [["setup", "#1565c0"], ["data", "#2e7d32"], ["teardown", "#777"], ["datagram", "#e65100"]].forEach(function (m) {
      var mk = el("marker", { id: "arrow-" + m[0], viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" });
      mk.appendChild(el("path", { d: "M0,0 L10,5 L0,10 z", fill: m[1] }));
      defs.appendChild(mk);
    });
    svg.appendChild(defs);
    var x = function (e) { return LEFT + cols[key(e)] * COL + 14; };
    procs.forEach(function (p, pi) {
      var first = cols[key(p.socks[0])], n = p.socks.length;
      var lr = laneRole(p.pid);
      var g = el("g", { "class": "lane", "data-pid": p.pid, "data-proc": p.proc, "data-role": lr });
      g.appendChild(el("rect", { x: LEFT + first * COL + 2, y: 4, width: n * COL - 4, height: height - 8, rx: 6,
        fill: pi % 2 ? "#f7f9fc" : "#fbf8f3", stroke: "#ccc" }));
      var title = p.proc + " (pid " + p.pid + ")" + (lr ? " " + lr : "") + (dropped[p.pid] ? " — " + dropped[p.pid] + " events dropped" : "");
      var named = el("text", { "class": "proc", x: LEFT + first * COL + 10, y: 22, "data-fit": n * COL - 20 }, title);
      named.appendChild(el("title", {}, title));
      g.appendChild(named);
      p.socks.forEach(function (s) {
        var cx = x(s);
        var sr = role[key(s)] || "";
        var head = el("text", { "class": "sockhead", x: cx - 6, y: 44, "data-sock": s.sock, "data-role": sr },
          s.sock === 0 ? "(no socket)" : "socket #" + s.sock + " (fd " + s.fd + ")");
        g.appendChild(head);
        if (sr) {
          var rg = el("g", {});
          rg.appendChild(el("title", {}, sr));
          rg.appendChild(el("text", { "class": "sockrole", x: cx - 6, y: 58 }, short(sr, 34)));
          g.appendChild(rg);
        }
        g.appendChild(el("line", { x1: cx, y1: 64, x2: cx, y2: height - 10, stroke: "#bbb", "stroke-dasharray": "3 3" }));
      });
      svg.appendChild(g);
    });
    var row = new Map();
    evs.forEach(function (e, i) { row.set(e, TOP + i * ROW); });
    arrows.forEach(function (a) {
      var colr = COLOURS[a.kind];
      var line = el("line", { "class": "arrow " + a.kind, x1: x(a.from), y1: row.get(a.from), x2: x(a.to), y2: row.get(a.to),
        stroke: colr, "stroke-width": 1.5, "marker-end": "url(#arrow-" + a.kind + ")",
        "data-from": a.from.proc + ":" + a.from.call, "data-to": a.to.proc + ":" + a.to.call,
        "data-from-pid": a.from.pid, "data-to-pid": a.to.pid, "data-from-sock": a.from.sock, "data-to-sock": a.to.sock });
      if (a.kind === "teardown") line.setAttribute("stroke-dasharray", "5 3");
      if (a.n > 1) line.setAttribute("data-count", a.n);
      if (a.kind === "data" || a.kind === "datagram") line.appendChild(el("title", {}, (a.n > 1 ? a.n + " like this; the first: " : "") + a.from.len + " bytes: " + textOf(a.from.hex || "")));
      svg.appendChild(line);
    });
    evs.forEach(function (e) {
      var y = row.get(e), cx = x(e);
      var n = g0.count.get(e) || 1;
      var g = el("g", { "class": "ev" + (e.error ? " err" : ""), "data-pid": e.pid, "data-proc": e.proc, "data-sock": e.sock, "data-call": e.call, "data-count": n });
      g.appendChild(el("circle", { cx: cx, cy: y, r: n > 1 ? 5 : 4, fill: e.error ? "#c00" : "#333" }));
      var text = label(e);
      g.appendChild(el("text", { "class": "lbl", x: cx + 8, y: y + 4 }, n > 1 ? short(text, 24) + " ×" + n : short(text, 30)));
      var tip = text + "\n" + new Date(e.t).toISOString() + " +" + e.dur.toFixed(3) + " ms";
      if (n > 1) tip = n + " calls like this (to or from the same address), the first:\n" + tip + "\nthe last returned at " + new Date(end(g0.last.get(e))).toISOString();
      if (e.error) tip += "\n" + e.error.name + " [errno " + e.error.errno + "]: " + e.error.message;
      if (e.len !== undefined) tip += "\n" + e.len + " bytes; first " + (e.hex || "").length / 2 + ":\n" + textOf(e.hex || "") + "\nhex: " + (e.hex || "");
      g.appendChild(el("title", {}, tip));
      svg.appendChild(g);
    });
    var view = document.getElementById("view");
    view.replaceChildren(svg);
    // a lane's title longer than its lane is drawn narrower, not cut, nor over the next lane
    svg.querySelectorAll("text.proc").forEach(function (t) {
      var fit = Number(t.getAttribute("data-fit"));
      if (t.getComputedTextLength() > fit) { t.setAttribute("textLength", fit); t.setAttribute("lengthAdjust", "spacingAndGlyphs"); }
    });
    var total = Object.keys(dropped).reduce(function (s, k) { return s + dropped[k]; }, 0);
    document.getElementById("older").textContent = older ? older + " older events dropped (the page keeps the last " + KEEP + ")" : "";
    document.getElementById("status").textContent = (mode === "replay" ? "replay: " : "live: ") + shown.length + " calls" +
      (pending.length ? ", " + pending.length + " waiting (paused)" : "") + (total ? ", " + total + " dropped by exporters" : "") +
      (facts.skipped ? ", " + facts.skipped + " not traced (over the exporters' rate budget, SOCKIT_TRACE_RATE)" : "");
    filters(role);
  }

  function filters(role) {
    var box = document.getElementById("filters"), seen = {}, parts = [];
    shown.forEach(function (e) {
      if (!seen["p:" + e.pid]) { seen["p:" + e.pid] = 1; parts.push(["p:" + e.pid, e.proc + " (" + e.pid + ")"]); }
      if (!seen["s:" + key(e)]) { seen["s:" + key(e)] = 1; parts.push(["s:" + key(e), "  #" + e.sock + (role[key(e)] ? " " + role[key(e)] : "")]); }
    });
    var sig = JSON.stringify(parts);
    if (box.dataset.sig === sig) return;
    box.dataset.sig = sig;
    box.replaceChildren();
    parts.forEach(function (p) {
      var l = document.createElement("label"), c = document.createElement("input");
      c.type = "checkbox"; c.checked = !hidden[p[0]]; c.dataset.key = p[0];
      c.addEventListener("change", function () { hidden[p[0]] = !c.checked; draw(); });
      l.append(c, " " + p[1]);
      box.appendChild(l);
    });
  }

  function trim(list) {
    if (list.length <= KEEP) return;
    var n = list.length - KEEP;
    list.splice(0, n);
    older += n;
  }
  // draws at most every 100 ms, however fast batches come
  function later() {
    if (drawing) return;
    drawing = setTimeout(function () { drawing = 0; draw(); }, 100);
  }
  function add(list) {
    list.forEach(function (e) {
      // (Resume adds what waited: already observed)
      if (!observed.has(e)) { observed.add(e); observe(e); }
    });
    if (paused) { pending.push.apply(pending, list); trim(pending); }
    else { shown.push.apply(shown, list); shown.sort(function (a, b) { return end(a) - end(b); }); trim(shown); }
    later();
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
    if (e) { shown.push(e); shown.sort(function (a, b) { return end(a) - end(b); }); trim(shown); }
    draw();
  });
  var groupBox = document.getElementById("group");
  groupBox.checked = grouping;
  groupBox.addEventListener("change", function () { grouping = groupBox.checked; draw(); });
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
  window.traceView = {
    shown: function () { return shown; },
    pending: function () { return pending; },
    older: function () { return older; },
    links: function () { return links(shown.filter(visible)); },
    roles: function () { return roles(links(shown.filter(visible)).ports); }
  };
})();
`;
