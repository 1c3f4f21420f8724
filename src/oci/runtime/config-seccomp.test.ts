import { expect, test } from "bun:test";
import { dockerDefaultProfileJson } from "../../seccomp/docker-default.ts";
import { parseConfig } from "./config.ts";

test("parseConfig() keeps Docker's seccomp extensions (includes, excludes, archMap): dropping them would loosen the filter", () => {
  const profile = dockerDefaultProfileJson();
  const c = parseConfig({ ociVersion: "1.2.0", root: { path: "rootfs" }, linux: { seccomp: profile } });
  const s = c.linux!.seccomp! as { archMap?: unknown; syscalls: { includes?: unknown; excludes?: unknown }[] };
  expect(s.archMap).toEqual((profile as { archMap?: unknown }).archMap);
  expect(s.syscalls.some((r) => r.includes !== undefined)).toBe(true);
  expect(s.syscalls.some((r) => r.excludes !== undefined)).toBe(true);
});
