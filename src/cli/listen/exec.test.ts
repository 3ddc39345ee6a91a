import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { UsageError } from "../exit.js";
import { execArgv } from "./exec.js";

describe("execArgv (the plan for --exec / --sh-exec)", () => {
  const ok: Array<[{ exec?: string; shExec?: string }, string[]]> = [
    [{ exec: "cat" }, ["cat"]],
    [{ exec: "grep -i 'hello world'" }, ["grep", "-i", "hello world"]],
    [{ exec: 'printf "%s\\n" $HOME' }, ["printf", "%s\\n", "$HOME"]],
    [{ exec: "tr a-z A-Z | rev" }, ["tr", "a-z", "A-Z", "|", "rev"]],
    [{ shExec: "tr a-z A-Z | rev" }, ["/bin/sh", "-c", "tr a-z A-Z | rev"]],
    [{ shExec: "echo $SOCKIT_PEER_ADDR" }, ["/bin/sh", "-c", "echo $SOCKIT_PEER_ADDR"]],
  ];
  for (const [opts, want] of ok) {
    test(`${JSON.stringify(opts)} runs ${JSON.stringify(want)}`, () =>
      assert.deepEqual(execArgv(opts), want));
  }

  const bad: Array<[{ exec?: string; shExec?: string }, RegExp]> = [
    [{}, /needs --exec CMD or --sh-exec CMD/],
    [{ exec: "" }, /--exec needs a command/],
    [{ exec: "   " }, /--exec needs a command/],
    [{ shExec: " " }, /--sh-exec needs a command/],
    [{ exec: "cat", shExec: "cat" }, /cannot be used together/],
    [{ exec: "echo 'oops" }, /--exec: unterminated single quote .*column 6.*--sh-exec/],
  ];
  for (const [opts, re] of bad) {
    test(`${JSON.stringify(opts)} is a usage error matching ${re}`, () => {
      assert.throws(
        () => execArgv(opts),
        (err: unknown) => err instanceof UsageError && re.test(err.message),
      );
    });
  }
});
