/**
 * What every subcommand gets: the global options, the process's streams, and one place to
 * write diagnostics (stderr only; data goes to stdout only).
 *
 * @module
 */
import type { Readable, Writable } from "node:stream";
import { type ColorMode, type Palette, palette, useColor } from "./output/color.js";
import { Dumper } from "./output/hexdump.js";

/** Options every command accepts. */
export interface GlobalOptions {
  /** -v: connection events to stderr. */
  readonly verbose: boolean;
  /** -x/--hexdump: both directions to stderr. */
  readonly hexdump: boolean;
  /** --trace / --trace=json. */
  readonly trace: false | "text" | "json";
  /** --json: reports as JSON (where a command reports). */
  readonly json: boolean;
  /** --color. */
  readonly color: ColorMode;
}

/** The process's streams and environment (replaceable in tests). */
export interface Io {
  readonly stdin: Readable;
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly env: NodeJS.ProcessEnv;
}

/**
 * Diagnostics to stderr: verbose events, warnings, hex dumps.
 * @example `ctx.info("connected to 127.0.0.1:80")`
 */
export class Context {
  readonly opts: GlobalOptions;
  readonly io: Io;
  readonly colors: Palette;

  constructor(opts: GlobalOptions, io: Io) {
    this.opts = opts;
    this.io = io;
    this.colors = palette(useColor(opts.color, io.stderr as { isTTY?: boolean }, io.env));
  }

  /** Writes raw text to stderr. */
  err(s: string): void {
    this.io.stderr.write(s);
  }

  /** A connection event (only with -v): `sockit: connected to 127.0.0.1:80`. */
  info(msg: string): void {
    if (this.opts.verbose) this.err(`${this.colors.dim("sockit:")} ${msg}\n`);
  }

  /** A warning, always shown. */
  warn(msg: string): void {
    this.err(`${this.colors.yellow("sockit: warning:")} ${msg}\n`);
  }

  /** A hex dumper for one connection when -x is on (undefined otherwise). */
  dumper(label = ""): Dumper | undefined {
    return this.opts.hexdump ? new Dumper((s) => this.err(s), label, this.colors.cyan) : undefined;
  }
}
