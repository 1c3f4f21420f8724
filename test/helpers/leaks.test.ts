import { expect, test } from "bun:test";
import { ownerOf } from "./leaks.ts";
import { RUN_BASE_PREFIX, runToken } from "./tmp.ts";

test("ownerOf() attributes names and paths by the run token they carry", () => {
  const t = runToken();
  expect(ownerOf(`pelagos-t-${t}-3`)).toBe("ours");
  expect(ownerOf(`/tmp/${RUN_BASE_PREFIX}${t}/root-x/c1/rootfs`)).toBe("ours");
  expect(ownerOf("pelagos-cg-ltxo39a4d-2")).toBe("foreign");
  expect(ownerOf(`/tmp/${RUN_BASE_PREFIX}zzzzzzz1/bundle-a`)).toBe("foreign");
  expect(ownerOf("veth1a2b3c")).toBe("unknown");
  expect(ownerOf("/run/netns/pelagos-web")).toBe("unknown");
});
