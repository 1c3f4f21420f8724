import { describe, expect, test } from "bun:test";
import { buildRunConfig, type RunSpec } from "./docker-config.ts";
import type { HostFacts } from "./host.ts";
import { planLaunch, Ready } from "./launch.ts";
import { DEFAULT_SECURITY, DOCKER_MASKED, type SecuritySpec } from "./security-config.ts";

const host: HostFacts = { arch: "x64", lastCap: 40, ownCaps: Array.from({ length: 41 }, (_, i) => i), cgroups: "v2" };
const spec = (security?: Partial<SecuritySpec>, uid = 0): RunSpec => ({
  rootfs: "/tmp", args: ["sh"], env: ["PATH=/bin"], cwd: "/", user: { uid, gid: uid, additionalGids: [] },
  hostname: "h", terminal: false, readOnly: false, network: "loopback", volumes: [], tmpfs: [], labels: {},
  security: security && { ...DEFAULT_SECURITY, ...security },
});
const seccomp = { filter: new Uint8Array(8), flags: 0 };
const launch = (s: RunSpec, extra: object = {}) =>
  planLaunch({ config: buildRunConfig(s), rootfs: "/tmp", mode: "run", preserveFds: 0, firstPreservedFd: 5, runtimeHooks: false, host, seccomp, ...extra });
const order = (steps: string[], names: string[]) => names.map((n) => steps.findIndex((s) => s.startsWith(n)));

describe("applySecurity()", () => {
  test("docker's defaults without a SecuritySpec: Docker's seccomp profile, 14 caps, masks", () => {
    const c = buildRunConfig(spec());
    expect((c.linux?.seccomp as unknown as { defaultAction: string }).defaultAction).toBe("SCMP_ACT_ERRNO");
    expect(c.process?.capabilities?.bounding).toHaveLength(14);
    expect(c.process?.capabilities?.ambient).toEqual([]);
    expect(c.process?.noNewPrivileges).toBe(false);
    expect(c.linux?.maskedPaths).toEqual(DOCKER_MASKED);
    expect(c.mounts?.find((m) => m.destination === "/sys")?.options).toContain("ro");
  });
  test("privileged: no seccomp, no masks, writable sysfs and cgroupfs, devices listed", () => {
    const c = buildRunConfig(spec({ privileged: true, seccomp: "unconfined", devices: [{ type: "c", path: "/dev/kmsg", major: 1, minor: 11 }] }));
    expect(c.linux?.seccomp).toBeUndefined();
    expect(c.linux?.maskedPaths).toEqual([]);
    expect(c.linux?.readonlyPaths).toEqual([]);
    for (const d of ["/sys", "/sys/fs/cgroup"]) {
      const o = c.mounts?.find((m) => m.destination === d)?.options ?? [];
      expect(o).toContain("rw");
      expect(o).not.toContain("ro");
    }
    expect(c.linux?.devices?.[0]?.path).toBe("/dev/kmsg");
  });
  test("rlimits: -1 becomes the largest u64 (RLIM_INFINITY in the plan)", () => {
    const c = buildRunConfig(spec({ rlimits: [{ type: "RLIMIT_CORE", soft: -1, hard: -1 }], oomScoreAdj: 10 }));
    expect(c.process?.rlimits).toEqual([{ type: "RLIMIT_CORE", soft: 2 ** 64, hard: 2 ** 64 }]);
    expect(c.process?.oomScoreAdj).toBe(10);
  });
});

test("a user namespace without a network namespace binds the host's /sys instead of mounting sysfs", () => {
  const userns = { uidMap: [{ containerID: 0, hostID: 1, size: 1 }], gidMap: [{ containerID: 0, hostID: 1, size: 1 }] };
  const own = buildRunConfig(spec({ userns }));
  expect(own.mounts?.find((m) => m.destination === "/sys")?.type).toBe("sysfs");
  const host = buildRunConfig({ ...spec({ userns }), network: "host" });
  expect(host.mounts?.find((m) => m.destination === "/sys")).toMatchObject({ type: "bind", source: "/sys" });
  expect(host.mounts?.find((m) => m.destination === "/sys")?.options).toEqual(["rbind", "nosuid", "noexec", "nodev", "ro"]);
});

describe("the credential steps, in the plan", () => {
  test("without no_new_privs: seccomp (needs CAP_SYS_ADMIN) before bounding → groups → keep-caps → gid → uid → capset → ambient", () => {
    const l = launch(spec({}, 1000));
    const idx = order(l.steps, ["load the seccomp filter", "drop capabilities", "set supplementary groups", "keep capabilities", "set gid", "set uid", "set capabilities", "set ambient", 'execute "sh"']);
    expect(idx.every((i) => i >= 0)).toBe(true);
    expect([...idx].sort((a, b) => a - b)).toEqual(idx);
  });
  test("with no_new_privs: credentials, then no_new_privs, then seccomp last before execve", () => {
    const l = launch(spec({ noNewPrivileges: true }, 1000));
    const idx = order(l.steps, ["drop capabilities", "set uid", "set capabilities", "set ambient", "set no_new_privs", "load the seccomp filter", 'execute "sh"']);
    expect(idx.every((i) => i >= 0)).toBe(true);
    expect([...idx].sort((a, b) => a - b)).toEqual(idx);
  });
  test("sysctls are written before /proc/sys becomes read-only", () => {
    const l = launch(spec({ sysctl: { "net.ipv4.ip_forward": "1" } }));
    const [sysctl, ro] = order(l.steps, ["set sysctl net.ipv4.ip_forward", "make /proc/sys read-only"]);
    expect(sysctl).toBeGreaterThan(-1);
    expect(sysctl).toBeLessThan(ro!);
  });
  test("a user namespace with an idmapped rootfs: the trampoline enters the rootfs, the init gets the tree at the sync point", () => {
    const s = spec({ userns: { uidMap: [{ containerID: 0, hostID: 100000, size: 65536 }], gidMap: [{ containerID: 0, hostID: 100000, size: 65536 }] } });
    const l = launch(s, { idmapRootfs: true });
    expect(l.readies).toEqual([Ready.USERNS, Ready.CREATED]);
    const [cd, clone, mnt] = order(l.steps, ["change into /tmp", "create the container process", "mount the idmapped root filesystem"]);
    expect(cd).toBeLessThan(clone!);
    expect(clone).toBeLessThan(mnt!);
    expect(l.steps.some((x) => x.startsWith("bind the root filesystem"))).toBe(false);
    expect(() => launch(spec(), { idmapRootfs: true })).toThrow("idmapped root filesystem needs new user and mount namespaces");
  });
});
