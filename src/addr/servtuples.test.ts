import assert from "node:assert/strict";
import { test } from "node:test";
import { osErr } from "../../test/support/addr-oracle.js";
import { gaierror } from "../errors/index.js";
import { servTuples } from "./servtuples.js";

const triples = (ts: ReturnType<typeof servTuples>) => ts.map((t) => [t.socktype, t.protocol, t.port]);

test("servTuples expands type 0 to TCP, UDP and raw for numeric ports, as glibc", () => {
  assert.deepEqual(triples(servTuples(80, 0, 0)), [
    [1, 6, 80],
    [2, 17, 80],
    [3, 0, 80],
  ]);
  assert.deepEqual(triples(servTuples(null, 0, 0)), [
    [1, 6, 0],
    [2, 17, 0],
    [3, 0, 0],
  ]);
  assert.deepEqual(triples(servTuples("8080", 1, 0)), [[1, 6, 8080]]);
  assert.deepEqual(triples(servTuples(80, 0, 17)), [[2, 17, 80]]);
  assert.deepEqual(triples(servTuples(80, 0, 132)), [[1, 132, 80]]);
  assert.deepEqual(triples(servTuples(null, 3, 99)), [[3, 99, 0]]);
});

test("servTuples expands service names to every protocol they are listed for", () => {
  assert.deepEqual(triples(servTuples("http", 0, 0)), [[1, 6, 80]]);
  assert.deepEqual(triples(servTuples("domain", 0, 0)), [
    [1, 6, 53],
    [2, 17, 53],
  ]);
  assert.deepEqual(triples(servTuples("domain", 2, 0)), [[2, 17, 53]]);
});

test("servTuples raises EAI_SOCKTYPE/EAI_SERVICE like glibc, RangeError above 65535", () => {
  assert.throws(() => servTuples(80, 99, 0), osErr(gaierror, "EAI_SOCKTYPE", "getaddrinfo"));
  assert.throws(() => servTuples(80, 1, 17), osErr(gaierror, "EAI_SOCKTYPE", "getaddrinfo"));
  assert.throws(() => servTuples(80, 0, 1), osErr(gaierror, "EAI_SERVICE", "getaddrinfo"));
  assert.throws(() => servTuples(80, 3, 0), osErr(gaierror, "EAI_SERVICE", "getaddrinfo"));
  assert.throws(() => servTuples("nosuch", 0, 0), osErr(gaierror, "EAI_SERVICE", "getaddrinfo"));
  assert.throws(() => servTuples("ntp", 1, 0), osErr(gaierror, "EAI_SERVICE", "getaddrinfo"));
  assert.throws(() => servTuples(70000, 0, 0), RangeError);
  assert.throws(() => servTuples("70000", 0, 0), RangeError);
  assert.throws(() => servTuples(-1, 0, 0), RangeError);
});
