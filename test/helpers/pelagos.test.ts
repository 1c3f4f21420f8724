import { expect, test } from "bun:test";
import { parseList } from "./pelagos.ts";

test("parseList() reads runc's table, a header-less table and JSON", () => {
  const table = "ID          PID   STATUS  BUNDLE  CREATED  OWNER\na           12    running /b      2026     root\nb  0 stopped /c x root\n";
  expect(parseList(table)).toEqual(["a", "b"]);
  expect(parseList("a 1 running\n")).toEqual(["a"]);
  expect(parseList('[{"id":"x","status":"running"},{"id":"y"}]')).toEqual(["x", "y"]);
  expect(parseList("")).toEqual([]);
});
