/**
 * Colours for diagnostics: `--color auto|always|never`; `auto` colours only a terminal and
 * honours NO_COLOR (https://no-color.org) and FORCE_COLOR.
 *
 * @module
 */

/** The --color setting. */
export type ColorMode = "auto" | "always" | "never";

/**
 * Decides whether to colour a stream.
 * @example `useColor("auto", process.stderr, process.env)`
 */
export function useColor(mode: ColorMode, stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
  if (mode === "always") return true;
  if (mode === "never") return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== "0") return true;
  return stream.isTTY === true;
}

/** ANSI styles used in diagnostics (identity functions when colour is off). */
export interface Palette {
  dim(s: string): string;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  cyan(s: string): string;
  bold(s: string): string;
}

const wrap = (open: number, close: number) => (s: string) => `\x1b[${open}m${s}\x1b[${close}m`;

/**
 * The palette for `on`.
 * @example `palette(true).red("error")`
 */
export function palette(on: boolean): Palette {
  if (!on) {
    const id = (s: string) => s;
    return { dim: id, red: id, green: id, yellow: id, cyan: id, bold: id };
  }
  return {
    dim: wrap(2, 22),
    red: wrap(31, 39),
    green: wrap(32, 39),
    yellow: wrap(33, 39),
    cyan: wrap(36, 39),
    bold: wrap(1, 22),
  };
}
