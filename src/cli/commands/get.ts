/**
 * `sockit get URL`: an `http://` and `https://` client (`--ca FILE`, `--insecure`) — the body to stdout or `-o FILE`, `-C` to resume, a
 * progress bar on a terminal; exit 0 only when the whole body arrived, 8 on an HTTP failure.
 *
 * @module
 */
import { createWriteStream, type WriteStream } from "node:fs";
import { stat } from "node:fs/promises";
import type { SingleBar } from "cli-progress";
import type { Command } from "commander";
import { HttpError, type HttpResponse, httpGet, parseHttpUrl } from "../../services/http/client.js";
import type { Context } from "../context.js";
import { EXIT, UsageError } from "../exit.js";
import { addGlobalOptions } from "../globals.js";
import { writeAll } from "../pump.js";
import { clientTLS } from "../tls.js";
import { humanBytes, PROGRESS_DELAY_MS } from "../session/progress.js";
import type { CommandRegistry } from "./registry.js";

function number(flag: string, text: string, min: number, max: number, integer: boolean): number {
  const n = Number(text);
  const ok = (integer ? /^\d+$/ : /^\d+(\.\d+)?$/).test(text);
  if (!ok || n < min || n > max)
    throw new UsageError(
      `--${flag} must be ${integer ? "an integer" : "a number"} ${min}..${max}, got ${text}`,
    );
  return n;
}

/** What `get` will do. */
export interface GetPlan {
  readonly url: string;
  readonly output: string | undefined;
  readonly resume: boolean;
  readonly maxRedirects: number;
  readonly timeoutMs: number | undefined;
  readonly progress: boolean | undefined;
  /** `--ca FILE` (PEM added to the roots, for https://). */
  readonly ca: string | undefined;
  /** `--insecure`: https:// without verifying the server's certificate (a warning is printed). */
  readonly insecure: boolean;
}

/**
 * `get`'s arguments as a plan (pure; throws UsageError).
 *
 * @example `planGet("http://127.0.0.1:8000/a", { output: "a", continue: true }).resume // true`
 */
export function planGet(
  url: string,
  o: {
    output?: string;
    continue?: boolean;
    maxRedirs?: string;
    timeout?: string;
    progress?: boolean;
    ca?: string;
    insecure?: boolean;
  },
): GetPlan {
  try {
    parseHttpUrl(url);
  } catch (err) {
    throw new UsageError(`URL: ${(err as Error).message}`);
  }
  if (o.continue === true && (o.output === undefined || o.output === "-"))
    throw new UsageError("-C (resume) needs -o FILE: the part already there is that file");
  return {
    url,
    output: o.output === "-" ? undefined : o.output,
    resume: o.continue === true,
    maxRedirects: o.maxRedirs === undefined ? 10 : number("max-redirs", o.maxRedirs, 0, 100, true),
    timeoutMs:
      o.timeout === undefined || o.timeout === "0"
        ? undefined
        : Math.round(number("timeout", o.timeout, 0.001, 86_400, false) * 1000),
    progress: o.progress,
    ca: o.ca,
    insecure: o.insecure === true,
  };
}

/** A download bar on stderr: percentage, bytes, rate, ETA (after {@link PROGRESS_DELAY_MS}). */
class DownloadBar {
  #bar: SingleBar | undefined;
  #got = 0;
  readonly #start: number;
  readonly #total: number | undefined;
  readonly #timer: NodeJS.Timeout | undefined;
  readonly #t0 = performance.now();
  #stopped = false;

  constructor(
    stream: NodeJS.WritableStream,
    on: boolean,
    forced: boolean,
    total: number | undefined,
    start: number,
  ) {
    this.#total = total;
    this.#start = start;
    if (!on) return;
    // cli-progress loads only when a bar is drawn (start-up stays light)
    this.#timer = setTimeout(async () => {
      const { Presets, SingleBar } = await import("cli-progress");
      if (this.#stopped) return;
      this.#bar = new SingleBar(
        {
          stream: stream as NodeJS.WriteStream,
          format:
            total === undefined
              ? "{gotText} | {rate}"
              : "{bar} {percentage}% {gotText}/{totalText} | {rate} | ETA {eta_formatted}",
          hideCursor: false,
          barsize: 24,
          fps: 5,
          noTTYOutput: forced,
          notTTYSchedule: 1000,
        },
        Presets.shades_classic,
      );
      this.#bar.start(total ?? 1, start, this.#payload());
    }, PROGRESS_DELAY_MS);
    this.#timer.unref();
  }

  #payload() {
    const s = (performance.now() - this.#t0) / 1000;
    return {
      gotText: humanBytes(this.#start + this.#got),
      totalText: this.#total === undefined ? "" : humanBytes(this.#total),
      rate: `${humanBytes(Math.round(s > 0 ? this.#got / s : 0))}/s`,
    };
  }

  add(n: number): void {
    this.#got += n;
    if (this.#total !== undefined) this.#bar?.update(this.#start + this.#got, this.#payload());
    else this.#bar?.update(0, this.#payload());
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#bar?.stop();
  }
}

async function sizeOf(path: string): Promise<number> {
  const st = await stat(path).catch(() => undefined);
  return st?.isFile() ? st.size : 0;
}

/** Where the body goes: stdout, or a file (appended to when resuming). */
async function sink(
  ctx: Context,
  plan: GetPlan,
  append: boolean,
): Promise<[(b: Buffer) => Promise<void>, () => Promise<void>]> {
  if (plan.output === undefined) return [(b) => writeAll(ctx.io.stdout, b), async () => {}];
  const ws: WriteStream = createWriteStream(plan.output, { flags: append ? "a" : "w" });
  await new Promise<void>((res, rej) => {
    ws.once("open", () => res());
    ws.once("error", rej);
  });
  return [
    (b) => writeAll(ws, b),
    () =>
      new Promise<void>((res, rej) => {
        ws.once("error", rej);
        ws.end(() => res());
      }),
  ];
}

function fail(ctx: Context, msg: string): number {
  ctx.err(`${ctx.colors.red("sockit:")} ${msg}\n`);
  return EXIT.HTTP;
}

/**
 * Downloads `plan.url`: the body to stdout or `-o FILE`; exit 0 only when the whole body arrived.
 * An error status (4xx/5xx), a body cut short, too many redirects: exit 8.
 */
export async function runGet(plan: GetPlan, ctx: Context): Promise<number> {
  const have = plan.resume && plan.output !== undefined ? await sizeOf(plan.output) : 0;
  // https:// (and redirects to it) verify against the system roots plus --ca; --insecure warns
  const tls = clientTLS(
    { tls: true, ...(plan.ca === undefined ? {} : { ca: plan.ca }), insecure: plan.insecure },
    ctx,
  );
  let res: HttpResponse;
  try {
    res = await httpGet(plan.url, {
      ...(tls === undefined ? {} : { tls }),
      maxRedirects: plan.maxRedirects,
      ...(plan.timeoutMs === undefined ? {} : { timeout: plan.timeoutMs }),
      ...(have > 0 ? { headers: { Range: `bytes=${have}-` } } : {}),
    });
  } catch (err) {
    if (err instanceof HttpError) return fail(ctx, err.message);
    throw err;
  }
  ctx.info(`${res.url}: ${res.status} ${res.statusText}`);
  if (ctx.opts.verbose) for (const [k, v] of Object.entries(res.headers)) ctx.info(`  ${k}: ${String(v)}`);
  let append = false;
  let total = res.contentLength;
  if (have > 0 && res.status === 416) {
    const m = /^bytes \*\/(\d+)$/.exec(String(res.headers["content-range"] ?? ""));
    res.discard();
    if (m && Number(m[1]) === have) {
      ctx.err(`sockit: ${plan.output} is already complete (${have} bytes); nothing to resume\n`);
      return EXIT.OK;
    }
    return fail(
      ctx,
      `${res.url}: 416 Range Not Satisfiable: ${plan.output} (${have} bytes) is not a part of it`,
    );
  }
  if (res.status >= 400) {
    res.discard();
    return fail(
      ctx,
      `${res.url}: the server answered ${res.status} ${res.statusText}${plan.output === undefined ? "" : `; ${plan.output} not written`}`,
    );
  }
  if (have > 0) {
    if (res.status === 206) {
      const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(String(res.headers["content-range"] ?? ""));
      if (!m || Number(m[1]) !== have) {
        res.discard();
        return fail(
          ctx,
          `${res.url}: the server resumed at the wrong place (Content-Range: ${String(res.headers["content-range"])})`,
        );
      }
      append = true;
      if (total !== undefined) total += have;
    } else {
      ctx.warn(
        `${res.url} does not resume (it answered ${res.status}, not 206): downloading all of it again`,
      );
    }
  }
  const [write, close] = await sink(ctx, plan, append);
  const bar = new DownloadBar(
    ctx.io.stderr,
    plan.progress ?? (ctx.io.stderr as { isTTY?: boolean }).isTTY === true,
    plan.progress === true,
    total,
    append ? have : 0,
  );
  let got = 0;
  try {
    for await (const chunk of res.body) {
      await write(chunk);
      got += chunk.length;
      bar.add(chunk.length);
    }
  } catch (err) {
    bar.stop();
    await close().catch(() => {});
    if (err instanceof HttpError) {
      const kept =
        plan.output === undefined ? "" : `; ${plan.output} keeps what arrived (sockit get -C resumes)`;
      return fail(ctx, `${err.message}${kept}`);
    }
    throw err;
  }
  bar.stop();
  await close();
  ctx.info(`${got} bytes${append ? ` (resumed at ${have})` : ""} from ${res.url}`);
  return EXIT.OK;
}

/** Adds `get` to the program. */
export function register(program: Command, reg: CommandRegistry): void {
  const get = addGlobalOptions(program.command("get"))
    .description("download an http:// or https:// URL: the body to stdout or -o FILE (curl-class, small)")
    .argument("<url>", "http://HOST[:PORT]/PATH or https://HOST[:PORT]/PATH")
    .option("-o, --output <file>", "write the body to FILE (default: stdout)")
    .option("-C, --continue", "resume: ask for the rest of FILE (Range) and append it")
    .option("--max-redirs <n>", "redirects followed at most (default 10)")
    .option(
      "-t, --timeout <seconds>",
      "give up after SECONDS without an answer or data: exit 4 (default: never)",
    )
    .option("--progress", "show the progress bar even when stderr is not a terminal")
    .option("--no-progress", "never show the progress bar")
    .option("--ca <file>", "https: also trust the CA certificate(s) in FILE (PEM)")
    .option("--insecure", "https: do NOT verify the server's certificate (prints a warning)")
    .addHelpText(
      "after",
      `
Exit codes: 0 only when the whole body arrived; 8 when the server answered an error status
(4xx/5xx; the body is not written), the body was shorter than its Content-Length, or there were
too many redirects; 2, 3, 4, 5 as for every command (name, refused or a certificate that does
not verify, timeout, reset).

Examples:
  sockit get http://127.0.0.1:8000/ > index.html
  sockit get http://127.0.0.1:8000/big.iso -o big.iso      a progress bar on a terminal
  sockit get -C http://127.0.0.1:8000/big.iso -o big.iso   resume after an interruption
  sockit get --ca cert.pem https://localhost:8443/a.txt    HTTPS, trusting that certificate`,
    );
  get.action((url: string, opts: Record<string, unknown>) => {
    reg.choose(get, (ctx) => runGet(planGet(url, opts as Parameters<typeof planGet>[1]), ctx));
  });
}
