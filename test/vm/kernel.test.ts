import { expect, test } from "bun:test";
import { moduleDepends } from "./kernel.ts";

test("module dependencies come from the .modinfo depends= string", () => {
  const ko = Buffer.from("\x7fELF....\0license=GPL\0depends=netfs,9pnet\0retpoline=Y\0name=9p\0");
  expect(moduleDepends(ko)).toEqual(["netfs", "9pnet"]);
  expect(moduleDepends(Buffer.from("\0depends=\0name=veth\0"))).toEqual([]);
});
