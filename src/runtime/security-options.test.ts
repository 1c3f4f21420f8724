import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import type { HostFacts } from "../plan/host.ts";
import { buildSecuritySpec, hostDevices, resolveGroups } from "./security-options.ts";

const rootfs = mkdtempSync(`${tmpdir()}/pelagos-secopt-`);
mkdirSync(`${rootfs}/etc`);
writeFileSync(`${rootfs}/etc/group`, "root:x:0:\ntty:x:5:\nusers:x:100:app\n");
afterAll(() => rmSync(rootfs, { recursive: true, force: true }));

const host: HostFacts = { arch: "x64", lastCap: 40, ownCaps: Array.from({ length: 41 }, (_, i) => i).filter((c) => c !== 24), cgroups: "v2" };
const build = (f: Parameters<typeof buildSecuritySpec>[0], network = "loopback") =>
  buildSecuritySpec(f, { rootfs, user: { uid: 0, gid: 0, additionalGids: [] }, network, host });

describe("buildSecuritySpec()", () => {
  test("no flags: docker's defaults", () => {
    const { security } = build({});
    expect(security.capabilities).toHaveLength(14);
    expect(security.seccomp).toBe("default");
    expect(security.noNewPrivileges).toBe(false);
    expect(security.devices).toEqual([]);
    expect(security.userns).toBeUndefined();
  });
  test("--privileged: every held capability, unconfined, host devices; an explicit profile still applies", () => {
    const { security } = build({ privileged: true });
    expect(security.capabilities).toHaveLength(40);
    expect(security.seccomp).toBe("unconfined");
    expect(security.devices.some((d) => d.path === "/dev/null")).toBe(true);
  });
  test("network sysctls with --network host are refused", () => {
    expect(() => build({ sysctl: ["net.ipv4.ip_forward=1"] }, "host")).toThrow("--network host");
    expect(build({ sysctl: ["net.ipv4.ip_forward=1"] }).security.sysctl).toEqual({ "net.ipv4.ip_forward": "1" });
  });
  test("--uidmap must map the container's user", () => {
    expect(build({ uidmap: ["0:100000:10"] }).security.userns?.gidMap).toEqual([{ containerID: 0, hostID: 100000, size: 10 }]);
  });
});

describe("resolveGroups() and hostDevices()", () => {
  test("--group-add: names from the container's /etc/group, or numbers", () => {
    expect(resolveGroups(["tty", "users", "4242"], rootfs)).toEqual([5, 100, 4242]);
    expect(() => resolveGroups(["wheel"], rootfs)).toThrow('Cannot find group "wheel"');
  });
  test("host devices: char and block nodes with their numbers, no pts, console or ptmx", () => {
    const devs = hostDevices();
    expect(devs.find((d) => d.path === "/dev/null")).toMatchObject({ type: "c", major: 1, minor: 3 });
    expect(devs.some((d) => d.path.startsWith("/dev/pts/") || d.path === "/dev/console" || d.path === "/dev/ptmx")).toBe(false);
  });
});
