import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { readResourcesFile } from "./cgroup-verbs.ts";

const dir = mkdtempSync(`${tmpdir()}/pelagos-res-`);
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  writeFileSync(`${dir}/${name}`, text);
  return `${dir}/${name}`;
};

test("update --resources FILE: runc's JSON LinuxResources", () => {
  const r = readResourcesFile(file("ok.json", JSON.stringify({ memory: { limit: 134217728 }, pids: { limit: 50 }, cpu: { quota: 20000, period: 100000 } })));
  expect(r).toEqual({ memory: { limit: 134217728 }, pids: { limit: 50 }, cpu: { quota: 20000, period: 100000 } });
});

test("update --resources FILE: bad JSON, bad values and missing files are clear errors", () => {
  expect(() => readResourcesFile(file("bad.json", "{"))).toThrow("cannot parse");
  expect(() => readResourcesFile(file("val.json", JSON.stringify({ memory: { limit: 1.5 } })))).toThrow("memory.limit");
  expect(() => readResourcesFile(`${dir}/missing.json`)).toThrow('Cannot read --resources "');
});
