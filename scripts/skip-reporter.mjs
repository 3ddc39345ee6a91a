// A node:test reporter that writes one JSON line per skipped test or suite ({ file, name, suite,
// reason }); scripts/run-tests.mjs reads them back for its summary line.
export default async function* skipReporter(source) {
  for await (const event of source) {
    if (event.type !== "test:pass" && event.type !== "test:fail") continue;
    const { skip, name, file } = event.data;
    if (skip === undefined || skip === false) continue;
    const suite = event.data.details?.type === "suite";
    const reason = typeof skip === "string" && skip !== "" ? skip : "no reason given";
    yield `${JSON.stringify({ file, name, suite, reason })}\n`;
  }
}
