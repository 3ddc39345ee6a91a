/**
 * `sockit trace-view`'s controls, clicked in headless Chromium on a real traced session
 * (`sockit serve echo` and `sockit echo`, both with SOCKIT_TRACE): Pause holds new calls back
 * until Step (one) or Resume (all); the filters hide a process and a socket; Export SVG is an SVG
 * document with the lanes, Export PNG a PNG of the diagram's size, and Export JSON, replayed by
 * `sockit trace-view FILE.json`, draws the same diagram.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import { needs } from "./support/peers.js";
import { launchChromium } from "./support/chromium.js";
import { SOCKIT } from "./support/sockit-serve.js";
import { type Child, start } from "./support/spawn.js";

/** The environment without SOCKIT_TRACE, plus `extra`. */
function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env, ...extra };
  if (extra.SOCKIT_TRACE === undefined) delete e.SOCKIT_TRACE;
  return e;
}

interface Drawn {
  /** Each drawn call as `pid:sock:call`, top to bottom. */
  calls: string[];
  lanes: string[];
  arrows: string[];
  status: string;
}

// (expressions as text: they run in the page, whose DOM types this project does not load)
const READ_PAGE = `(() => ({
  calls: [...document.querySelectorAll("g.ev")].map((g) => g.dataset.pid + ":" + g.dataset.sock + ":" + g.dataset.call),
  lanes: [...document.querySelectorAll("g.lane")].map((g) => g.dataset.pid),
  arrows: [...document.querySelectorAll("line.arrow")].map((l) =>
    l.classList[1] + " " + l.dataset.fromPid + ":" + l.dataset.fromSock + " -> " + l.dataset.toPid + ":" + l.dataset.toSock),
  status: document.getElementById("status").textContent,
}))()`;

describe(
  "sockit trace-view: pause, step, filters, export and replay",
  { skip: needs(["chromium"]), timeout: 90_000 },
  () => {
    const children: Child[] = [];
    const dir = mkdtempSync(join(tmpdir(), "sockit-trace-controls-"));
    let browser: Browser | undefined;
    before(async () => {
      browser = await launchChromium();
    });
    after(async () => {
      await browser?.close();
      for (const c of children) {
        c.kill("SIGKILL");
        await c.exit(5000).catch(() => {});
      }
      rmSync(dir, { recursive: true, force: true });
    });

    async function viewer(args: string[] = []): Promise<string> {
      const v = start(process.execPath, [SOCKIT, "trace-view", "--port", "0", ...args], env());
      children.push(v);
      const [, address] = await v.line(/on http:\/\/(\S+)\//);
      return `http://${address!}`;
    }
    function traced(at: string, args: string[]): Child {
      const c = start(process.execPath, [SOCKIT, ...args], env({ SOCKIT_TRACE: at }));
      children.push(c);
      return c;
    }
    const read = async (page: Page): Promise<Drawn> => (await page.evaluate(READ_PAGE)) as Drawn;
    /** Reads the page until `want` holds (at most 10 s); fails with the last reading otherwise. */
    async function until(page: Page, want: (d: Drawn) => boolean): Promise<Drawn> {
      let last: Drawn | undefined;
      for (let i = 0; i < 100; i++) {
        last = await read(page);
        if (want(last)) return last;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.fail(`the page never got there: ${JSON.stringify(last)}`);
    }
    /** Clicks `button` and resolves the file it downloads. */
    async function download(
      page: Page,
      button: string,
    ): Promise<{ name: string; file: string; body: Buffer }> {
      const [dl] = await Promise.all([
        page.waitForEvent("download", { timeout: 10_000 }),
        page.click(button),
      ]);
      const file = join(dir, `${Date.now()}-${dl.suggestedFilename()}`);
      await dl.saveAs(file);
      return { name: dl.suggestedFilename(), file, body: readFileSync(file) };
    }

    let live: Drawn | undefined;
    let saved: Buffer | undefined;
    let serverPid = 0;
    let clientPid = 0;

    test("pause holds new calls back; step shows one; resume shows the rest", async () => {
      const at = await viewer();
      const srv = traced(at, ["serve", "echo", "--json", "--port", "all=0"]);
      const [, address] = await srv.line(/"address":"([^"]+)"/);
      serverPid = srv.proc.pid!;
      const page = await browser!.newPage({ acceptDownloads: true });
      await page.goto(`${at}/`);
      const before = await until(page, (d) => d.calls.some((c) => c.endsWith(":listen")));
      await page.click("#pause");
      assert.equal(await page.textContent("#pause"), "Resume");

      const cli = traced(at, ["echo", address!, "over", "the", "wire"]);
      assert.equal(await cli.exit(), 0, cli.stderr());
      clientPid = cli.proc.pid!;
      // the client's calls up to its close, and the server's, wait
      const closed = `window.traceView.pending().filter((e) => e.call === "close").length`;
      for (let i = 0; i < 100 && ((await page.evaluate(closed)) as number) < 2; i++)
        await new Promise((r) => setTimeout(r, 100));
      assert.equal(await page.evaluate(closed), 2, "both ends closed (held back)");
      await new Promise((r) => setTimeout(r, 300)); // and nothing new gets drawn meanwhile
      const still = await read(page);
      assert.deepEqual(still.calls, before.calls, "paused: no new call drawn");
      assert.ok(!still.lanes.includes(String(clientPid)));
      const waiting = (await page.evaluate("window.traceView.pending().length")) as number;
      assert.match(still.status, new RegExp(`, ${waiting} waiting \\(paused\\)`));

      await page.click("#step");
      const stepped = await read(page);
      assert.equal(stepped.calls.length, before.calls.length + 1, "step: one more call");
      assert.match(stepped.status, new RegExp(`${waiting - 1} waiting \\(paused\\)`));

      await page.click("#pause");
      assert.equal(await page.textContent("#pause"), "Pause");
      live = await until(page, (d) => d.arrows.some((a) => a.startsWith("teardown ")));
      assert.ok(live.calls.length >= before.calls.length + waiting, JSON.stringify(live));
      assert.doesNotMatch(live.status, /waiting/);
      assert.deepEqual([...live.lanes].sort(), [String(serverPid), String(clientPid)].sort());
      assert.ok(live.arrows.includes(`setup ${clientPid}:1 -> ${serverPid}:1`), JSON.stringify(live.arrows));

      // the filters: hide the client process, then one server socket, then show them again
      await page.uncheck(`#filters input[data-key="p:${clientPid}"]`);
      let d = await read(page);
      assert.deepEqual(d.lanes, [String(serverPid)]);
      assert.ok(d.calls.every((c) => c.startsWith(`${serverPid}:`)));
      assert.deepEqual(d.arrows, [], "no arrow to a hidden process");
      const accepted = live.calls.find(
        (c) => c.startsWith(`${serverPid}:`) && !c.startsWith(`${serverPid}:1:`),
      )!;
      const sock = accepted.split(":")[1];
      await page.uncheck(`#filters input[data-key="s:${serverPid}:${sock}"]`);
      d = await read(page);
      assert.ok(
        d.calls.length > 0 && d.calls.every((c) => c.startsWith(`${serverPid}:1:`)),
        JSON.stringify(d.calls),
      );
      await page.check(`#filters input[data-key="p:${clientPid}"]`);
      await page.check(`#filters input[data-key="s:${serverPid}:${sock}"]`);
      d = await read(page);
      assert.deepEqual(d.calls, live.calls);
      assert.deepEqual(d.arrows, live.arrows);

      // "Group repeats" groups datagrams only: a TCP session draws the same, every call its row
      await page.check("#group");
      d = await read(page);
      assert.deepEqual(d.calls, live.calls, "stream calls are never grouped");
      assert.deepEqual(d.arrows, live.arrows);
      await page.uncheck("#group");

      // the exports
      const json = await download(page, "#json");
      assert.equal(json.name, "trace.json");
      const records = JSON.parse(json.body.toString()) as { pid: number; call: string }[];
      assert.equal(records.length, live.calls.length);
      saved = json.body;

      const svg = await download(page, "#svg");
      assert.equal(svg.name, "trace.svg");
      const checked = (await page.evaluate(`((text) => {
      const doc = new DOMParser().parseFromString(text, "image/svg+xml");
      return { error: doc.querySelector("parsererror")?.textContent ?? null, root: doc.documentElement.localName,
        ns: doc.documentElement.namespaceURI, width: doc.documentElement.getAttribute("width"),
        height: doc.documentElement.getAttribute("height"),
        lanes: [...doc.querySelectorAll("g.lane")].map((g) => g.dataset.pid),
        calls: doc.querySelectorAll("g.ev").length };
    })(${JSON.stringify(svg.body.toString())})`)) as {
        error: string | null;
        root: string;
        ns: string;
        width: string;
        height: string;
        lanes: string[];
        calls: number;
      };
      assert.equal(checked.error, null, "the SVG parses as XML");
      assert.equal(checked.root, "svg");
      assert.equal(checked.ns, "http://www.w3.org/2000/svg");
      assert.deepEqual(checked.lanes, live.lanes);
      assert.equal(checked.calls, live.calls.length);
      // opened on its own, the SVG draws its labels as the page does (its style travels with it)
      const alone = await browser!.newPage();
      await alone.goto(`file://${svg.file}`);
      const font = (await alone.evaluate(`(() => {
      const s = getComputedStyle(document.querySelector("g.ev text.lbl"));
      return s.fontSize + " " + s.fontFamily;
    })()`)) as string;
      await alone.close();
      assert.equal(font, "12px ui-monospace, monospace");

      const png = await download(page, "#png");
      assert.equal(png.name, "trace.png");
      assert.deepEqual(
        [...png.body.subarray(0, 8)],
        [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
        "PNG signature",
      );
      assert.equal(png.body.subarray(12, 16).toString(), "IHDR");
      assert.equal(png.body.readUInt32BE(16), Number(checked.width));
      assert.equal(png.body.readUInt32BE(20), Number(checked.height));
      await page.close();
      srv.kill("SIGTERM");
      assert.equal(await srv.exit(), 0);
    });

    test("replay: the exported JSON, served by `sockit trace-view FILE.json`, draws the same diagram", async () => {
      assert.ok(saved && live, "the first test exported a trace");
      const file = join(dir, "replay.json");
      writeFileSync(file, saved);
      const at = await viewer([file]);
      const page = await browser!.newPage();
      await page.goto(`${at}/`);
      const d = await until(page, (x) => x.calls.length === live!.calls.length);
      await page.close();
      assert.match(d.status, /^replay: /);
      assert.deepEqual(d.calls, live.calls);
      assert.deepEqual(d.lanes, live.lanes);
      assert.deepEqual(d.arrows, live.arrows);
    });
  },
);
