// Export-list check (run by `npm test`, after the package build): lists, with the TypeScript
// compiler, everything each entry point of package.json's "exports" map declares in its built
// .d.ts, and fails when
//   - an export has no doc comment with an @example (DESIGN.md §4: every export has one);
//   - an export is one of the package's internals (DENY below: helpers the layers share, which
//     are imported by path inside the package and never re-exported);
//   - the built .d.ts still carries a member marked @internal (stripInternal must remove it).
// Usage: node scripts/check-exports.mjs [ROOT] [--list]   (--list prints every entry's exports)
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

/** Internal names: never part of the public API, whatever entry point would re-export them. */
export const DENY = [
  // errors/: how the layers build and convert errors
  "makeOSError",
  "makeGaiError",
  "toSocketError",
  "errorCode",
  "errnoNumber",
  "strerror",
  "argTypeError",
  "argRangeError",
  "checkInt",
  "show",
  "EAI",
  // trace.ts: how the layers publish calls
  "traceDone",
  "traceNow",
  "publishCall",
  "traced",
  "tracing",
  "span",
  "Span",
  "sym",
  "bytesRepr",
  "renderValue",
  // bsd/, addr/: trace rendering and address plumbing
  "optionName",
  "levelName",
  "familyName",
  "typeName",
  "MAX_ADDRESS_LENGTH",
  "DatagramPart",
  "parseHostPort",
  "parseIPv6",
  "normalizePort",
  // core/: the transports under both faces
  "StreamSocket",
  "StreamListener",
  "DatagramSocket",
  "WaitList",
  // services/rfc: the host's own machinery
  "pickQuote",
  "UdpGate",
  "UdpDrop",
  "serveUdp",
  "ServeUdpOptions",
  "newCounters",
  "resolveLimits",
  "isServiceName",
];

/** The entry points: [subpath, absolute .d.ts path] from package.json's "exports" map. */
function entries(root) {
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  return Object.entries(pkg.exports).map(([sub, target]) => {
    const types = typeof target === "string" ? target.replace(/\.js$/, ".d.ts") : target.types;
    return [sub === "." ? pkg.name : `${pkg.name}${sub.slice(1)}`, join(root, types)];
  });
}

/** The doc comment of a declaration: its text and whether it has an @example tag. */
function docOf(decl) {
  const docs = ts.getJSDocCommentsAndTags(decl).filter(ts.isJSDoc);
  // a `const x = …` keeps its comment on the statement
  if (docs.length === 0 && ts.isVariableDeclaration(decl)) {
    docs.push(...ts.getJSDocCommentsAndTags(decl.parent.parent).filter(ts.isJSDoc));
  }
  const tags = docs.flatMap((d) => d.tags ?? []);
  return { has: docs.length > 0, example: tags.some((t) => t.tagName.text === "example") };
}

/** Checks the built package at `root`; resolves { problems, listing }. */
export function checkExports(root) {
  const list = entries(root);
  const program = ts.createProgram(
    list.map(([, file]) => file),
    {
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
      strict: true,
      noEmit: true,
      types: ["node"],
    },
  );
  const checker = program.getTypeChecker();
  const problems = [];
  const listing = [];
  const deny = new Set(DENY);
  for (const [name, file] of list) {
    const sf = program.getSourceFile(file);
    if (!sf) {
      problems.push(`${name}: ${file} does not exist (run \`npm run build:pkg\` first)`);
      continue;
    }
    const mod = checker.getSymbolAtLocation(sf);
    const exports = mod ? checker.getExportsOfModule(mod) : [];
    listing.push(
      `${name}: ${exports
        .map((s) => s.name)
        .sort()
        .join(" ")}`,
    );
    for (const sym of exports) {
      const target = sym.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(sym) : sym;
      const decls = target.declarations ?? [];
      const where = decls[0]
        ? `${decls[0].getSourceFile().fileName.slice(root.length + 1)}:${
            decls[0].getSourceFile().getLineAndCharacterOfPosition(decls[0].getStart()).line + 1
          }`
        : file;
      if (deny.has(sym.name)) {
        problems.push(
          `${name} exports ${sym.name} (${where}): an internal; import it by path inside the package`,
        );
        continue;
      }
      const docs = decls.map(docOf);
      if (!docs.some((d) => d.has))
        problems.push(`${name} exports ${sym.name} (${where}) without a doc comment`);
      else if (!docs.some((d) => d.example))
        problems.push(`${name} exports ${sym.name} (${where}) without an @example in its doc comment`);
    }
  }
  for (const sf of program.getSourceFiles()) {
    if (!sf.fileName.startsWith(join(root, "dist") + "/")) continue;
    const at = sf.text.search(/@internal\b/);
    if (at >= 0) {
      const line = sf.getLineAndCharacterOfPosition(at).line + 1;
      problems.push(
        `${sf.fileName.slice(root.length + 1)}:${line}: an @internal member is in the .d.ts (stripInternal)`,
      );
    }
  }
  return { problems, listing };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const root = resolve(args.find((a) => !a.startsWith("-")) ?? fileURLToPath(new URL("..", import.meta.url)));
  const { problems, listing } = checkExports(root);
  if (args.includes("--list")) for (const l of listing) console.log(l);
  for (const p of problems) console.error(p);
  if (problems.length > 0) {
    console.error(`check-exports: ${problems.length} problem(s) with the public exports`);
    process.exitCode = 1;
  } else
    console.log(
      `check-exports: ok (${listing.length} entry points; every export has a doc comment with an example, ` +
        "none is internal)",
    );
}
