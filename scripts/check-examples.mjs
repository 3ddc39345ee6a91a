// Doc-example check (run by `npm test`, after the package build): every fenced ```ts block under
// an @example in the doc comments of the public API — each export of each entry point in
// package.json's "exports" map, the members of exported classes and interfaces, and each entry
// point's module comment — is type-checked against the built package, as a user's code would be.
//
// Each block becomes one ES module: its own imports stay; every other public name it uses comes
// from a prelude importing the entry points ("sockit", then "sockit/codec", "sockit/services/rfc");
// names a block uses without declaring them (the socket `s` of a method's example, …) are declared
// from CONTEXT below. All blocks are checked at once: strict, module nodenext, no
// esModuleInterop, skipLibCheck false (the shipped .d.ts are checked too).
// Inline examples (`@example \`expr\``) are fragments that read as one expression; they are not
// compiled.
//
// The same check covers the user documentation (checkDocs): every ```ts block of README.md and
// docs/*.md, and the programs in examples/. A block fenced ```ts is a fragment, wrapped as above
// (its undeclared names from CONTEXT and DOC_CONTEXT); a block fenced ```ts run is a complete
// program: compiled exactly as written (its own imports, nothing added), and run by
// test/doc-snippets.test.ts, so it must finish by itself, on loopback and free ports only.
// Usage: node scripts/check-examples.mjs [ROOT] [--show]   (--show prints each wrapped block)
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

/** Names examples use as given, with their type (what a method's example calls `s`, …). */
export const CONTEXT = {
  s: 'import("sockit").Socket',
  sock: 'import("sockit").Socket',
  srv: 'import("sockit").Socket',
  conn: 'import("sockit").Conn',
  ln: 'import("sockit").Listener',
  pc: 'import("sockit").PacketConn',
  host: 'import("sockit/services/rfc").ServiceHost',
  clients: 'import("sockit").Socket[]',
  handle: '(conn: import("sockit").Conn) => Promise<void>',
  packet: 'import("sockit").Packet',
  reply: "Buffer",
  chunk: "Uint8Array",
  decoder: 'import("sockit/codec").Decoder<unknown>',
  client: 'import("sockit/jsonrpc").JsonRpcClient',
  server: 'import("sockit/jsonrpc").JsonRpcServer',
  items: 'import("sockit/jsonrpc").BatchItem[]',
  err: "unknown",
};

/** Names the documentation's fragments use as given, beyond CONTEXT (what the prose defined). */
export const DOC_CONTEXT = {
  host: "string",
  port: "number",
  addr: 'import("sockit").SockAddr',
  e: "unknown",
  onData: '(s: import("sockit").Socket, data: Buffer) => void',
  onFrame: "(frame: Uint8Array) => void",
};

/** Entry points from package.json's "exports": [specifier, absolute .d.ts path]. */
function entries(root) {
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  return Object.entries(pkg.exports).map(([sub, target]) => {
    const types = typeof target === "string" ? target.replace(/\.js$/, ".d.ts") : target.types;
    return [sub === "." ? pkg.name : `${pkg.name}${sub.slice(1)}`, join(root, types)];
  });
}

const OPTIONS = {
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  target: ts.ScriptTarget.ES2022,
  lib: ["lib.es2023.d.ts", "lib.esnext.disposable.d.ts"],
  types: ["node"],
  strict: true,
  noEmit: true,
  skipLibCheck: false,
  esModuleInterop: false,
  allowSyntheticDefaultImports: false,
  exactOptionalPropertyTypes: true,
  noUncheckedIndexedAccess: true,
};

/** The fenced ts blocks in the @example tags of `node`'s doc comments. */
function blocksOf(node) {
  const out = [];
  for (const doc of ts.getJSDocCommentsAndTags(node)) {
    if (!ts.isJSDoc(doc)) continue;
    for (const tag of doc.tags ?? []) {
      if (tag.tagName.text !== "example") continue;
      const text =
        typeof tag.comment === "string" ? tag.comment : (ts.getTextOfJSDocComment(tag.comment) ?? "");
      for (const m of text.matchAll(/```(?:ts|typescript)\n([\s\S]*?)```/g)) out.push(m[1]);
    }
  }
  return out;
}

/** Every example block of the public API: { where, code }. */
function collect(root, program, checker, list) {
  const found = [];
  const seen = new Set();
  const take = (node, label) => {
    if (seen.has(node)) return;
    seen.add(node);
    const sf = node.getSourceFile();
    const line = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
    for (const code of blocksOf(node))
      found.push({ where: `${sf.fileName.slice(root.length + 1)}:${line} (${label})`, code });
  };
  for (const [name, file] of list) {
    const sf = program.getSourceFile(file);
    if (!sf) throw new Error(`${file} does not exist: run \`npm run build:pkg\` first`);
    const first = sf.statements[0];
    if (first) {
      // the module comment: a doc comment with @module before the first statement
      for (const doc of ts.getJSDocCommentsAndTags(first)) {
        if (ts.isJSDoc(doc) && (doc.tags ?? []).some((t) => t.tagName.text === "module")) {
          for (const m of ts
            .getTextOfJSDocComment(doc.tags.find((t) => t.tagName.text === "example")?.comment)
            ?.matchAll(/```(?:ts|typescript)\n([\s\S]*?)```/g) ?? []) {
            found.push({
              where: `${sf.fileName.slice(root.length + 1)}:1 (${name} module comment)`,
              code: m[1],
            });
          }
        }
      }
    }
    const mod = checker.getSymbolAtLocation(sf);
    for (const sym of mod ? checker.getExportsOfModule(mod) : []) {
      const target = sym.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(sym) : sym;
      for (const decl of target.declarations ?? []) {
        const node = ts.isVariableDeclaration(decl) ? decl.parent.parent : decl;
        take(node, `${name} ${sym.name}`);
        if (ts.isClassDeclaration(decl) || ts.isInterfaceDeclaration(decl)) {
          for (const member of decl.members)
            take(member, `${name} ${sym.name}.${member.name?.getText() ?? "()"}`);
        }
      }
    }
  }
  return found;
}

/** Top-level names a block declares or imports (so the prelude leaves them alone). */
function declared(code) {
  const sf = ts.createSourceFile("x.ts", code, ts.ScriptTarget.Latest, true);
  const names = new Set();
  const bind = (n) => {
    if (ts.isIdentifier(n)) names.add(n.text);
    else if (ts.isObjectBindingPattern(n) || ts.isArrayBindingPattern(n)) {
      for (const e of n.elements) if (!ts.isOmittedExpression(e)) bind(e.name);
    }
  };
  for (const st of sf.statements) {
    if (ts.isImportDeclaration(st)) {
      const c = st.importClause;
      if (c?.name) names.add(c.name.text);
      const nb = c?.namedBindings;
      if (nb && ts.isNamespaceImport(nb)) names.add(nb.name.text);
      else if (nb) for (const e of nb.elements) names.add(e.name.text);
    } else if (ts.isVariableStatement(st)) for (const d of st.declarationList.declarations) bind(d.name);
    else if (
      (ts.isFunctionDeclaration(st) ||
        ts.isClassDeclaration(st) ||
        ts.isInterfaceDeclaration(st) ||
        ts.isTypeAliasDeclaration(st)) &&
      st.name
    )
      names.add(st.name.text);
  }
  return { names, sf };
}

/** Wraps one block into a module: prelude imports, CONTEXT declarations, the block. */
function wrap(code, publicNames, context = CONTEXT) {
  const { names, sf } = declared(code);
  const used = new Set();
  const visit = (n) => {
    if (ts.isIdentifier(n)) used.add(n.text);
    ts.forEachChild(n, visit);
  };
  visit(sf);
  const bySpec = new Map();
  for (const [name, spec] of publicNames) {
    if (!used.has(name) || names.has(name)) continue;
    if (!bySpec.has(spec)) bySpec.set(spec, []);
    bySpec.get(spec).push(name);
  }
  const lines = [];
  for (const [spec, list] of bySpec)
    lines.push(`import { ${list.join(", ")} } from ${JSON.stringify(spec)};`);
  for (const [name, type] of Object.entries(context)) {
    if (used.has(name) && !names.has(name)) lines.push(`declare const ${name}: ${type};`);
  }
  const prelude = lines.join("\n");
  return { text: `${prelude}\n${code}\nexport {};\n`, offset: prelude.split("\n").length };
}

/** Type-checks every example of the built package at `root`; returns the problems. */
export function checkExamples(root, show = false) {
  const list = entries(root);
  const base = ts.createProgram(
    list.map(([, f]) => f),
    OPTIONS,
  );
  const checker = base.getTypeChecker();
  // which entry provides each public name (first wins: the root, then the others)
  const order = [...list].sort(([a], [b]) => (a.includes("/") ? 1 : 0) - (b.includes("/") ? 1 : 0));
  const publicNames = new Map();
  for (const [name, file] of order) {
    const mod = checker.getSymbolAtLocation(base.getSourceFile(file));
    for (const sym of mod ? checker.getExportsOfModule(mod) : []) {
      if (!publicNames.has(sym.name)) publicNames.set(sym.name, name);
    }
  }
  const blocks = collect(root, base, checker, list);
  const dir = join(root, ".doc-examples");
  const files = new Map();
  blocks.forEach((b, i) => {
    const w = wrap(b.code, publicNames);
    files.set(join(dir, `example-${i + 1}.ts`), { ...b, ...w });
    if (show) console.log(`// ${b.where}\n${w.text}`);
  });
  return { problems: compile(root, files), count: blocks.length };
}

/** The public names of the built package at `root`: name → the entry point that exports it. */
function publicNamesOf(root) {
  const list = entries(root);
  const base = ts.createProgram(
    list.map(([, f]) => f),
    OPTIONS,
  );
  const checker = base.getTypeChecker();
  const order = [...list].sort(([a], [b]) => (a.includes("/") ? 1 : 0) - (b.includes("/") ? 1 : 0));
  const publicNames = new Map();
  for (const [name, file] of order) {
    const sf = base.getSourceFile(file);
    if (!sf) throw new Error(`${file} does not exist: run \`npm run build:pkg\` first`);
    const mod = checker.getSymbolAtLocation(sf);
    for (const sym of mod ? checker.getExportsOfModule(mod) : []) {
      if (!publicNames.has(sym.name)) publicNames.set(sym.name, name);
    }
  }
  return publicNames;
}

/**
 * The fenced TypeScript blocks of a Markdown text: { line, code, run } for each ```ts (or
 * ```typescript) block; `run` when the info string says `run` (a complete program).
 */
export function markdownBlocks(text) {
  const out = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const m = /^(\s*)```(ts|typescript)(?:\s+(.*))?$/.exec(lines[i]);
    if (!m) continue;
    const words = (m[3] ?? "").trim().split(/\s+/).filter(Boolean);
    const start = i + 1;
    let j = start;
    while (j < lines.length && !/^\s*```\s*$/.test(lines[j])) j++;
    out.push({ line: start, code: lines.slice(start, j).join("\n") + "\n", run: words.includes("run") });
    i = j;
  }
  return out;
}

/** README.md and docs/*.md of `root`, relative paths. */
export function docFiles(root) {
  const docs = readdirSync(join(root, "docs"))
    .filter((f) => f.endsWith(".md"))
    .sort()
    .map((f) => `docs/${f}`);
  return ["README.md", ...docs];
}

/**
 * Type-checks the documentation at `root` against its built package: every ```ts block of
 * README.md and docs/*.md (fragments wrapped, ```ts run programs as written) and every program in
 * examples/ (and its subfolders). Returns the problems, the number of blocks and the runnable programs
 * ({ where, code }).
 */
export function checkDocs(root, show = false) {
  const publicNames = publicNamesOf(root);
  const dir = join(root, ".doc-snippets");
  const files = new Map();
  const runnable = [];
  let count = 0;
  for (const rel of docFiles(root)) {
    const blocks = markdownBlocks(readFileSync(join(root, rel), "utf8"));
    for (const b of blocks) {
      count++;
      const where = `${rel}:${b.line}${b.run ? " (ts run)" : ""}`;
      const w = b.run
        ? { text: b.code, offset: 0 }
        : wrap(b.code, publicNames, { ...CONTEXT, ...DOC_CONTEXT });
      files.set(join(dir, `${rel.replace(/[/.]/g, "-")}-${b.line}.ts`), { where, code: b.code, ...w });
      if (b.run) runnable.push({ where, code: b.code });
      if (show) console.log(`// ${where}\n${w.text}`);
    }
  }
  const examples = join(root, "examples");
  // the course keeps its programs in one folder per chapter: examples/NN-topic/*.ts
  for (const f of readdirSync(examples, { recursive: true, encoding: "utf8" })
    .filter((n) => n.endsWith(".ts"))
    .sort()) {
    const code = readFileSync(join(examples, f), "utf8");
    count++;
    files.set(join(examples, f), { where: `examples/${f}`, code, text: code, offset: 0 });
  }
  return { problems: compile(root, files), count, runnable };
}

/** Compiles the in-memory `files` (path → { where, code, text, offset }); the problems. */
function compile(root, files) {
  const host = ts.createCompilerHost(OPTIONS);
  const { getSourceFile, fileExists, readFile } = host;
  host.fileExists = (f) => files.has(f) || fileExists.call(host, f);
  host.readFile = (f) => files.get(f)?.text ?? readFile.call(host, f);
  host.getSourceFile = (f, lang, ...rest) =>
    files.has(f)
      ? ts.createSourceFile(f, files.get(f).text, lang)
      : getSourceFile.call(host, f, lang, ...rest);
  const program = ts.createProgram([...files.keys()], OPTIONS, host);
  const problems = [];
  for (const d of ts.getPreEmitDiagnostics(program)) {
    const msg = ts.flattenDiagnosticMessageText(d.messageText, "\n");
    const ex = d.file && files.get(d.file.fileName);
    if (ex && d.start !== undefined) {
      const line = d.file.getLineAndCharacterOfPosition(d.start).line + 1 - ex.offset;
      const text = ex.code.split("\n")[line - 1] ?? "";
      problems.push(`${ex.where}, example line ${line}: ${msg}\n    ${text.trim()}`);
    } else problems.push(`${d.file ? d.file.fileName.slice(root.length + 1) : "(options)"}: ${msg}`);
  }
  return problems;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const root = resolve(args.find((a) => !a.startsWith("-")) ?? fileURLToPath(new URL("..", import.meta.url)));
  const { problems, count } = checkExamples(root, args.includes("--show"));
  for (const p of problems) console.error(p);
  if (problems.length > 0) {
    console.error(`check-examples: ${problems.length} type error(s) in ${count} doc examples`);
    process.exitCode = 1;
  } else console.log(`check-examples: ok (${count} doc examples type-check against the package)`);
  const docs = checkDocs(root, args.includes("--show"));
  for (const p of docs.problems) console.error(p);
  if (docs.problems.length > 0) {
    console.error(
      `check-examples: ${docs.problems.length} type error(s) in ${docs.count} README/docs blocks and examples`,
    );
    process.exitCode = 1;
  } else
    console.log(
      `check-examples: ok (${docs.count} README/docs blocks and examples type-check against the package)`,
    );
}
