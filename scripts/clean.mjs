// Removes build output directories before a build, so nothing stale (a deleted source, an old
// layout) is shipped or run. Only `dist` and `build` at the repository root are accepted.
// Usage: node scripts/clean.mjs dist|build …
import { rmSync } from "node:fs";
import { fileURLToPath } from "node:url";

for (const name of process.argv.slice(2)) {
  if (name !== "dist" && name !== "build") {
    console.error(`clean: refusing to remove ${JSON.stringify(name)} (only dist and build)`);
    process.exit(2);
  }
  rmSync(fileURLToPath(new URL(`../${name}`, import.meta.url)), { recursive: true, force: true });
}
