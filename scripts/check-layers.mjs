// Layering check (run by `npm test`): parses every source file under src/ with the TypeScript
// compiler and fails, naming file:line, when
//   - a file imports a higher layer, or a sibling of its own layer (bsd/ and net/ never import
//     each other), or the package entry points (src/index.ts, src/trace-stderr.ts);
//   - anything outside src/core imports node:net or node:dgram (the core is the one place), or
//     anything but src/addr/resolve.ts imports node:dns.
// The layers (DESIGN.md §1): L0 errors/, trace.ts, limits.ts · L1 addr/ · L2 core/ ·
// L3 bsd/, net/ · L4 codec/ · L5 services/, jsonrpc/ · L6 cli/. Unit tests beside the sources
// (*.test.ts, *.test-support.ts) are tests, not layers, and are not checked.
// Usage: node scripts/check-layers.mjs [ROOT]   (ROOT: the repository, default: this one)
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

/** Units of src/ (a top folder or a top file) and their layer. */
export const LAYERS = {
  errors: 0,
  "trace.ts": 0,
  "limits.ts": 0,
  addr: 1,
  core: 2,
  bsd: 3,
  net: 3,
  codec: 4,
  services: 5,
  jsonrpc: 5,
  cli: 6,
  "index.ts": 7,
  "trace-stderr.ts": 7,
};
/** Entry points: the package's doors; nothing inside src/ imports them. */
const ENTRIES = new Set(["index.ts", "trace-stderr.ts"]);
/** Node modules only one unit (or file) may import. */
const ONLY = [
  { modules: ["net", "dgram", "tls"], allowed: (rel) => rel.startsWith("core/"), who: "src/core" },
  {
    modules: ["dns", "dns/promises"],
    allowed: (rel) => rel === "addr/resolve.ts",
    who: "src/addr/resolve.ts",
  },
];

const isTest = (name) => /\.test(-support)?\.ts$/.test(name);

function sources(dir, out = []) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) sources(path, out);
    else if (e.name.endsWith(".ts") && !e.name.endsWith(".d.ts") && !isTest(e.name)) out.push(path);
  }
  return out.sort();
}

/** Every module specifier in `sf` (imports, re-exports, import(), require) with its line. */
function specifiers(sf) {
  const found = [];
  const add = (node, lit) => {
    if (lit && ts.isStringLiteralLike(lit)) {
      found.push({ spec: lit.text, line: sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1 });
    }
  };
  const visit = (node) => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) add(node, node.moduleSpecifier);
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      add(node, node.moduleReference.expression);
    } else if (ts.isCallExpression(node) && node.arguments.length > 0) {
      const callee = node.expression;
      if (
        callee.kind === ts.SyntaxKind.ImportKeyword ||
        (ts.isIdentifier(callee) && callee.text === "require")
      ) {
        add(node, node.arguments[0]);
      }
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument))
      add(node, node.argument.literal);
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

/** Files that belong to another top file's unit (the trace exporter is part of the trace). */
const PART_OF = { "trace-export.ts": "trace.ts", "trace-ring.ts": "trace.ts" };

/** The unit of a path relative to src/ ("bsd", "trace.ts"), or undefined if it has none. */
const unitOf = (rel) => {
  const first = PART_OF[rel] ?? rel.split("/")[0];
  return first in LAYERS ? first : undefined;
};

/** Checks the repository at `root`; returns the problems as "file:line: message" strings. */
export function checkLayers(root) {
  const src = join(root, "src");
  const problems = [];
  for (const file of sources(src)) {
    const rel = relative(src, file).split(sep).join("/");
    const unit = unitOf(rel);
    const where = (line) => `${relative(root, file).split(sep).join("/")}:${line}`;
    if (unit === undefined) {
      problems.push(
        `${where(1)}: src/${rel} belongs to no layer (add it to LAYERS in scripts/check-layers.mjs)`,
      );
      continue;
    }
    const sf = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
    for (const { spec, line } of specifiers(sf)) {
      if (spec.startsWith(".")) {
        const target = relative(src, resolve(dirname(file), spec))
          .split(sep)
          .join("/");
        if (target.startsWith("..")) {
          problems.push(`${where(line)}: imports ${spec}, outside src/`);
          continue;
        }
        const to = unitOf(target.replace(/\.js$/, ".ts"));
        if (to === undefined || to === unit) continue;
        if (ENTRIES.has(to)) {
          problems.push(
            `${where(line)}: imports the package entry point src/${to}; import the module itself`,
          );
        } else if (LAYERS[to] > LAYERS[unit]) {
          problems.push(
            `${where(line)}: ${unit} (L${LAYERS[unit]}) imports ${spec}, in ${to} (L${LAYERS[to]}): a layer imports only layers below it`,
          );
        } else if (LAYERS[to] === LAYERS[unit]) {
          problems.push(
            `${where(line)}: ${unit} imports ${spec}, in ${to}: both are L${LAYERS[unit]}, and a layer imports only layers below it`,
          );
        }
      } else {
        const bare = spec.replace(/^node:/, "");
        for (const rule of ONLY) {
          if (rule.modules.includes(bare) && !rule.allowed(rel)) {
            problems.push(`${where(line)}: imports ${spec}; only ${rule.who} may (go through the core)`);
          }
        }
      }
    }
  }
  return problems;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = resolve(process.argv[2] ?? fileURLToPath(new URL("..", import.meta.url)));
  const problems = checkLayers(root);
  for (const p of problems) console.error(p);
  if (problems.length > 0) {
    console.error(`check-layers: ${problems.length} problem(s) with the layering (DESIGN.md §1)`);
    process.exitCode = 1;
  } else console.log("check-layers: ok (every import goes down the layers; node:net/dgram only in src/core)");
}
