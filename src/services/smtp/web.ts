/**
 * The sink's web page: the list of messages and each one (headers, text part, raw source),
 * updated as mail arrives (server-sent events), MIME decoded by mailparser. A plain request
 * handler, so any HTTP server can mount it; {@link serveMailWeb} serves it alone.
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { simpleParser } from "mailparser";
import { makeOSError } from "../../errors/index.js";
import { EventStreams } from "../http/events.js";
import { serveHttp } from "../http/server.js";
import type { MessageStore, StoredMessage } from "./store.js";

/**
 * The page's request handler and the hook that tells open pages of a new message.
 *
 * @example
 * ```ts
 * import { createServer } from "node:http";
 * const store = new MemoryStore();
 * const web = mailWeb(store);
 * createServer(web.handle).listen(8025, "127.0.0.1");
 * await serveSmtp("127.0.0.1:2525", { store, onMessage: web.notify }); // every open page shows each message
 * ```
 */
export interface MailWeb {
  /** Answers GET `/`, `/app.js`, `/api/messages`, `/api/messages/ID`, `/api/messages/ID/raw`, `/events`. */
  readonly handle: (req: IncomingMessage, res: ServerResponse) => void;
  /** Sends `m` to every page open on `/events`. */
  readonly notify: (m: StoredMessage) => void;
  /** Ends every `/events` stream (at shutdown). */
  readonly close: () => void;
}

/** The largest message the page decodes (bigger ones are shown raw only). */
const MAX_DECODE = 16 * 1024 * 1024;

function summary(m: StoredMessage): Record<string, unknown> {
  return {
    id: m.id,
    from: m.envelope.from,
    to: m.envelope.to,
    subject: m.subject ?? "",
    size: m.size,
    date: m.envelope.receivedAt.toISOString(),
  };
}

const SECURITY_HEADERS = {
  "content-security-policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
};

function send(res: ServerResponse, status: number, type: string, body: string | Buffer): void {
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    "content-type": type,
    "content-length": Buffer.byteLength(body),
  });
  res.end(body);
}

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>sockit mail sink</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px system-ui,sans-serif;margin:0;display:grid;grid-template-columns:minmax(280px,36%) 1fr;height:100vh}
header{grid-column:1/3;background:#234;color:#fff;padding:8px 14px;display:flex;gap:1em;align-items:baseline}
header h1{font-size:16px;margin:0} #status{opacity:.8;font-size:12px}
#list{overflow:auto;border-right:1px solid #ccc} #list table{width:100%;border-collapse:collapse}
#list td{padding:6px 10px;border-bottom:1px solid #eee;vertical-align:top;cursor:pointer}
#list tr:hover{background:#f3f6fa} #list tr.sel{background:#dde8f5}
.from{font-weight:600}.subj{color:#333}.meta{color:#777;font-size:12px}
#view{overflow:auto;padding:10px 16px} #view h2{font-size:18px;margin:4px 0 10px}
#view table{border-collapse:collapse;font-size:13px} #view th{text-align:left;padding:2px 10px 2px 0;color:#555;vertical-align:top;white-space:nowrap}
pre{white-space:pre-wrap;word-break:break-word;background:#f7f7f7;padding:10px;border:1px solid #e3e3e3}
.empty{color:#888;padding:20px}
</style></head>
<body><header><h1>sockit mail sink</h1><span id="count"></span><span id="status">connecting…</span></header>
<div id="list"><table><tbody id="rows"></tbody></table><div class="empty" id="none">No messages yet.</div></div>
<div id="view"><div class="empty">Select a message.</div></div>
<script src="app.js"></script></body></html>
`;

const APP = `"use strict";
const rows = document.getElementById("rows"), view = document.getElementById("view");
const el = (tag, text, cls) => { const e = document.createElement(tag); if (text !== undefined) e.textContent = text; if (cls) e.className = cls; return e; };
let count = 0;
function add(m, top) {
  if (document.getElementById("m-" + m.id)) return;
  const tr = el("tr"); tr.id = "m-" + m.id; tr.dataset.id = m.id; tr.className = "msg";
  const td = el("td");
  td.append(el("div", m.from ? m.from : "<>", "from"), el("div", m.subject || "(no subject)", "subj"),
    el("div", new Date(m.date).toLocaleString() + " · to " + m.to.join(", ") + " · " + m.size + " bytes", "meta"));
  tr.append(td); tr.onclick = () => show(m.id);
  if (top) rows.prepend(tr); else rows.append(tr);
  count++; document.getElementById("count").textContent = count + " message" + (count === 1 ? "" : "s");
  document.getElementById("none").style.display = "none";
}
async function show(id) {
  for (const r of rows.querySelectorAll("tr.sel")) r.classList.remove("sel");
  const tr = document.getElementById("m-" + id); if (tr) tr.classList.add("sel");
  const res = await fetch("api/messages/" + encodeURIComponent(id));
  if (!res.ok) { view.replaceChildren(el("div", "Not found", "empty")); return; }
  const m = await res.json();
  const h = el("table"); h.id = "headers";
  for (const [k, v] of m.headers) { const tr = el("tr"); tr.append(el("th", k), el("td", v)); h.append(tr); }
  const raw = await (await fetch("api/messages/" + encodeURIComponent(id) + "/raw")).text();
  const parts = [el("h2", m.subject || "(no subject)"), h, el("h3", "Text"), el("pre", m.text ?? "(no text part)")];
  parts.at(-1).id = "text";
  if (m.attachments.length) parts.push(el("h3", "Attachments"), el("div", m.attachments.map(a => a.filename + " (" + a.contentType + ", " + a.size + " bytes)").join(", ")));
  const src = el("pre", raw); src.id = "raw";
  parts.push(el("h3", "Raw source"), src);
  view.replaceChildren(...parts);
}
fetch("api/messages").then(r => r.json()).then(list => { for (const m of list) add(m, true); });
const es = new EventSource("events");
es.onopen = () => { document.getElementById("status").textContent = "live"; };
es.onerror = () => { document.getElementById("status").textContent = "reconnecting…"; };
es.addEventListener("message", e => add(JSON.parse(e.data), true));
`;

/**
 * The web page for the messages of `store`.
 *
 * @example
 * ```ts
 * const store = await MaildirStore.open("./maildir");
 * const web = mailWeb(store);
 * const srv = await serveSmtp("127.0.0.1:2525", { store, onMessage: web.notify });
 * ```
 */
export function mailWeb(store: MessageStore): MailWeb {
  const live = new EventStreams();
  const detail = async (res: ServerResponse, id: string, raw: boolean) => {
    const bytes = await store.read(id);
    if (bytes === undefined) return send(res, 404, "text/plain; charset=utf-8", "no such message\n");
    if (raw) return send(res, 200, "text/plain; charset=utf-8", bytes);
    if (bytes.length > MAX_DECODE)
      return send(
        res,
        200,
        "application/json",
        JSON.stringify({
          id,
          subject: "",
          headers: [],
          text: "(too large to decode; see the raw source)",
          attachments: [],
        }),
      );
    const p = await simpleParser(bytes, { skipHtmlToText: true, skipImageLinks: true, skipTextLinks: true });
    const headers = p.headerLines.map((h) => {
      const colon = h.line.indexOf(":");
      const value = p.headers.get(h.key);
      const decoded = typeof value === "string" ? value : undefined;
      return [
        h.line.slice(0, colon),
        decoded ??
          h.line
            .slice(colon + 1)
            .replace(/\r?\n[ \t]+/g, " ")
            .trim(),
      ];
    });
    send(
      res,
      200,
      "application/json",
      JSON.stringify({
        id,
        subject: p.subject ?? "",
        headers,
        text: p.text ?? null,
        attachments: p.attachments.map((a) => ({
          filename: a.filename ?? "(unnamed)",
          contentType: a.contentType,
          size: a.size,
        })),
      }),
    );
  };
  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.setHeader("allow", "GET, HEAD");
      return send(res, 405, "text/plain; charset=utf-8", "only GET and HEAD\n");
    }
    const path = new URL(req.url ?? "/", "http://x").pathname;
    if (path === "/" || path === "/index.html") return send(res, 200, "text/html; charset=utf-8", PAGE);
    if (path === "/app.js") return send(res, 200, "text/javascript; charset=utf-8", APP);
    if (path === "/api/messages")
      return send(res, 200, "application/json", JSON.stringify((await store.list()).map(summary)));
    const m = /^\/api\/messages\/([^/]+)(\/raw)?$/.exec(path);
    if (m) return detail(res, decodeURIComponent(m[1]!), m[2] !== undefined);
    if (path === "/events") {
      live.open(res, SECURITY_HEADERS, ": sockit mail sink\n\n");
      return;
    }
    send(res, 404, "text/plain; charset=utf-8", "not found\n");
  };
  return {
    handle: (req, res) => {
      route(req, res).catch(() => {
        if (!res.headersSent) send(res, 500, "text/plain; charset=utf-8", "could not read the message\n");
        else res.destroy();
      });
    },
    notify: (m) => {
      const data = `event: message\ndata: ${JSON.stringify(summary(m))}\n\n`;
      live.send(data);
    },
    close: () => live.end(),
  };
}

/**
 * Serves `web` on the project's HTTP server (`serveHttp`: sockit accepts and limits the
 * connections, Node's llhttp parses the requests) on `host`, 127.0.0.1 by default; port 0: any
 * free port. Resolves the bound address and a close function.
 *
 * @example
 * ```ts
 * const page = await serveMailWeb(mailWeb(new MemoryStore()), 8025);
 * console.log(`http://${page.address}/`);
 * await page.close();
 * ```
 */
export async function serveMailWeb(
  web: MailWeb,
  port: number,
  host = "127.0.0.1",
): Promise<{ readonly address: string; close(): Promise<void> }> {
  const at = host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
  const server = await serveHttp({ address: at, handler: web.handle }).catch((err: unknown) => {
    const code = (err as { code?: unknown }).code;
    throw makeOSError(typeof code === "string" ? code : "EIO", {
      op: "bind",
      address: at,
      hint: "the web page's port: pick another with --http PORT",
      cause: err,
    });
  });
  return {
    address: server.address,
    close: async () => {
      web.close(); // ends the live event streams, so the close below does not wait for them
      await server.close();
    },
  };
}
