import assert from "node:assert/strict";
import { test } from "node:test";
import { pythonOracle } from "../../test/support/python.js";
import * as C from "./constants.js";

test(
  "every numeric constant has the value Python's socket module has on Linux",
  {
    timeout: 10_000,
  },
  async () => {
    const names = Object.keys(C).filter(
      (k) => typeof (C as Record<string, unknown>)[k] === "number" && k !== "MAX_ADDRESS_LENGTH",
    );
    assert.equal(names.length, 29);
    const py = await pythonOracle("import socket", "int(getattr(socket, x))", names);
    names.forEach((n, i) => {
      assert.deepEqual({ [n]: py[i]?.ok }, { [n]: (C as Record<string, unknown>)[n] });
    });
  },
);

test("familyName and typeName give symbolic names, and the number for unknown values", () => {
  assert.equal(C.familyName(C.AF_INET), "AF_INET");
  assert.equal(C.familyName(C.AF_INET6), "AF_INET6");
  assert.equal(C.familyName(C.AF_UNIX), "AF_UNIX");
  assert.equal(C.familyName(C.AF_UNSPEC), "AF_UNSPEC");
  assert.equal(C.familyName(99), "99");
  assert.equal(C.typeName(C.SOCK_STREAM), "SOCK_STREAM");
  assert.equal(C.typeName(C.SOCK_DGRAM), "SOCK_DGRAM");
  assert.equal(C.typeName(C.SOCK_RAW), "SOCK_RAW");
  assert.equal(C.typeName(C.SOCK_SEQPACKET), "SOCK_SEQPACKET");
  assert.equal(C.typeName(0), "0");
});
