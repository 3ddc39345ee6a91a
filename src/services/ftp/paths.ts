/**
 * Paths an FTP client names, kept inside the served directory: the client sees a virtual tree
 * rooted at `/` (the directory); `..` above it, NUL bytes, and symbolic links leading out are
 * refused, never followed. Absolute paths are taken from the virtual root (`/etc/passwd` is
 * `DIR/etc/passwd`).
 *
 * @module
 */
import { lstat, realpath } from "node:fs/promises";
import { posix, sep } from "node:path";

/**
 * Why a path was refused; the server answers 550 with the message.
 * @example `catch (e) { if (e instanceof PathRefused) reply(550, e.message); }`
 */
export class PathRefused extends Error {
  override readonly name = "PathRefused";
}

/**
 * The virtual path `arg` names from the virtual directory `cwd` (both absolute, `/`-separated),
 * normalised; throws {@link PathRefused} for NUL bytes or a `..` that climbs above the root.
 *
 * @example `virtualPath("/pub", "../a.txt") // "/a.txt"`
 */
export function virtualPath(cwd: string, arg: string): string {
  if (arg.includes("\0")) throw new PathRefused("NUL bytes are not allowed in paths.");
  const joined = arg.startsWith("/") ? arg : `${cwd}/${arg}`;
  const out: string[] = [];
  for (const part of joined.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (out.length === 0) throw new PathRefused("That path leads outside the served directory.");
      out.pop();
    } else out.push(part);
  }
  return `/${out.join("/")}`;
}

function inside(root: string, real: string): boolean {
  return real === root || real.startsWith(root.endsWith(sep) ? root : root + sep);
}

/**
 * The real file-system path for a virtual path, checked: the deepest existing ancestor (the
 * path itself when it exists) must resolve, symbolic links followed, inside `root` (which must
 * itself be a real path). Throws {@link PathRefused} when it leads out.
 *
 * @example `await realPathIn("/srv/ftp", "/pub/a.txt") // "/srv/ftp/pub/a.txt"`
 */
export async function realPathIn(root: string, virtual: string): Promise<string> {
  const rel = virtual.split("/").filter(Boolean);
  const full = posix.join(root, ...rel);
  // walk up to the deepest part that exists and check where it really is
  for (let n = rel.length; n >= 0; n--) {
    const candidate = posix.join(root, ...rel.slice(0, n));
    let real: string;
    try {
      real = await realpath(candidate);
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === "ENOENT" || code === "ENOTDIR") {
        // a dangling symbolic link must not be written through (it may point out)
        if (
          await lstat(candidate).then(
            (st) => st.isSymbolicLink(),
            () => false,
          )
        )
          throw new PathRefused("That path is a symbolic link that leads nowhere inside.");
        continue;
      }
      if (code === "ELOOP") throw new PathRefused("Too many symbolic links in that path.");
      throw err;
    }
    if (!inside(root, real)) throw new PathRefused("That path leads outside the served directory.");
    return n === rel.length ? real : posix.join(real, ...rel.slice(n));
  }
  return full;
}
