/**
 * Secure by default, seen from inside: `pelagos run` gets Docker's seccomp
 * profile, docker's 14 capabilities, masked paths; the security flags change
 * exactly what they say. Everything is read by /probe from /proc/self/status
 * or by trying the system call.
 */
import { describe, expect } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { makeBundle, useRootfsAndScratch } from "../helpers/rootfs.ts";
import { explain, uniqueId, useRuntimeRoot } from "../helpers/pelagos.ts";
import { decodeCaps, parseKv } from "../helpers/probe.ts";
import { itIf, requires } from "../helpers/requires.ts";

const skip = requires("root", "busybox", "pelagos");
const rt = useRuntimeRoot();
const fx = useRootfsAndScratch(skip, "pelagos-sec-");

const run = (args: string[]) => rt.run(["run", "--rm", "--rootfs", fx.rootfs, ...args]);
const probe = async (flags: string[], args: string[]) => {
  const r = await run([...flags, "/probe", ...args]);
  expect(r.code, explain(r)).toBe(0);
  return parseKv(r.stdout);
};
const syscall = async (flags: string[], name: string) => (await run([...flags, "/probe", "syscall", name])).stdout.trim();

const DOCKER = "00000000a80425fb";
/** what the runtime (this test, as root) holds: --privileged gets exactly this */
const ownCaps = () => {
  const s = parseKv(readFileSync("/proc/self/status", "utf8").replace(/:\s+/g, "="));
  return (BigInt(`0x${s.CapBnd}`) & BigInt(`0x${s.CapEff}`)).toString(16).padStart(16, "0");
};

describe("defaults: Docker's seccomp profile and capabilities", () => {
  itIf(skip, "one seccomp filter, docker's 14 capabilities in every set that matters, no_new_privs off", async () => {
    const s = await probe([], ["status"]);
    expect(s).toMatchObject({ Seccomp: "2", Seccomp_filters: "1", NoNewPrivs: "0" });
    expect([s.CapBnd, s.CapEff, s.CapPrm]).toEqual([DOCKER, DOCKER, DOCKER]);
    expect([s.CapInh, s.CapAmb]).toEqual(["0000000000000000", "0000000000000000"]);
    expect(decodeCaps(s.CapBnd!)).toHaveLength(14);
  });

  itIf(skip, "calls Docker's profile denies fail with EPERM; ordinary ones work", async () => {
    for (const name of ["unshare", "mount", "keyctl", "reboot", "swapon", "bpf", "setns"])
      expect(await syscall([], name), name).toBe("errno=EPERM");
    // Docker allows these (ptrace from kernel 4.8, personality queries; clone3 answers ENOSYS so libc falls back)
    expect(await syscall([], "ptrace")).toBe("ok");
    expect(await syscall([], "personality")).toBe("ok");
    expect(await syscall([], "clone3")).toBe("errno=ENOSYS");
    expect(await syscall([], "chroot")).toBe("ok");
  });

  itIf(skip, "a shell, a pipeline and an epoll server work under the profile", async () => {
    const r = await run(["sh", "-c", "echo hello | tr a-z A-Z; ls / | wc -l >/dev/null; date >/dev/null"]);
    expect(r.code, explain(r)).toBe(0);
    expect(r.stdout).toBe("HELLO\n");
    expect((await run(["/probe", "epoll-server"])).stdout.trim()).toBe("ok");
  });

  itIf(skip, "a non-root user keeps only the bounding set; the filter is loaded before the uid change", async () => {
    for (const flags of [["-u", "1000"], ["-u", "app", "--cap-add", "NET_ADMIN"]]) {
      const s = await probe(flags, ["status"]);
      expect(s.CapEff, flags.join(" ")).toBe("0000000000000000");
      expect(s.CapPrm).toBe("0000000000000000");
      expect(s.CapAmb).toBe("0000000000000000");
      expect(s.Seccomp).toBe("2");
    }
    expect(decodeCaps((await probe(["-u", "1000", "--cap-add", "NET_ADMIN"], ["status"])).CapBnd!)).toContain("CAP_NET_ADMIN");
  });
});

describe("--cap-add, --cap-drop, --privileged", () => {
  itIf(skip, "drop first, then add; names without CAP_, any case", async () => {
    expect((await probe(["--cap-drop", "ALL", "--cap-add", "net_raw"], ["status"])).CapEff).toBe("0000000000002000");
    const s = await probe(["--cap-drop", "chown", "--cap-add", "CAP_SYS_ADMIN"], ["status"]);
    expect(decodeCaps(s.CapEff!)).toContain("CAP_SYS_ADMIN");
    expect(decodeCaps(s.CapEff!)).not.toContain("CAP_CHOWN");
    expect(s.CapBnd).toBe(s.CapEff);
  });

  itIf(skip, "CAP_SYS_ADMIN opens Docker's capability-gated syscalls (mount gets past the filter)", async () => {
    expect(await syscall(["--cap-add", "SYS_ADMIN"], "mount")).toBe("errno=ENOENT");
    expect(await syscall([], "mount")).toBe("errno=EPERM");
  });

  itIf(skip, "unknown capabilities are a clear error", async () => {
    const r = await run(["--cap-add", "NET_BOGUS", "true"]);
    expect(r.code).toBe(125);
    expect(r.stderr).toContain('Invalid --cap-add "NET_BOGUS": unknown capability');
  });

  itIf(skip, "--privileged: every capability pelagos holds, no seccomp, writable /sys, host devices, nothing masked", async () => {
    const s = await probe(["--privileged"], ["status"]);
    expect(s.CapBnd).toBe(ownCaps());
    expect(s.CapEff).toBe(ownCaps());
    expect(s.Seccomp).toBe("0");
    const r = await run(["--privileged", "sh", "-c", "grep -E ' /sys(/fs/cgroup)? ' /proc/mounts; ls /dev; wc -c < /proc/timer_list"]);
    expect(r.code, explain(r)).toBe(0);
    for (const line of r.stdout.split("\n").filter((l) => l.includes(" /sys"))) expect(line).toContain(" rw,");
    expect(r.stdout).toMatch(/^kmsg$/m);
    expect(Number(r.stdout.trim().split("\n").at(-1))).toBeGreaterThan(0);
  });
});

describe("--security-opt", () => {
  itIf(skip, "seccomp=unconfined loads no filter", async () => {
    expect((await probe(["--security-opt", "seccomp=unconfined"], ["status"])).Seccomp).toBe("0");
    expect(await syscall(["--security-opt", "seccomp=unconfined"], "unshare")).toBe("ok");
  });

  itIf(skip, "seccomp=PATH loads that profile instead", async () => {
    const file = `${fx.scratch}/profile.json`;
    writeFileSync(file, JSON.stringify({ defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["keyctl"], action: "SCMP_ACT_ERRNO", errnoRet: 13 }] }));
    expect(await syscall(["--security-opt", `seccomp=${file}`], "keyctl")).toBe("errno=EACCES");
    expect(await syscall(["--security-opt", `seccomp=${file}`], "unshare")).toBe("ok");
    const missing = await run(["--security-opt", `seccomp=${fx.scratch}/nope.json`, "true"]);
    expect(missing.code).toBe(125);
    expect(missing.stderr).toContain("Cannot read seccomp profile");
  });

  itIf(skip, "no-new-privileges in docker's spellings", async () => {
    for (const o of ["no-new-privileges", "no-new-privileges=true", "no-new-privileges:true"])
      expect((await probe(["--security-opt", o], ["status"])).NoNewPrivs, o).toBe("1");
    expect((await probe(["--security-opt", "no-new-privileges:false"], ["status"])).NoNewPrivs).toBe("0");
    const s = await probe(["-u", "1000", "--security-opt", "no-new-privileges"], ["status"]);
    expect([s.NoNewPrivs, s.Seccomp]).toEqual(["1", "2"]);
  });

  itIf(skip, "systempaths=unconfined leaves /proc unmasked; unknown options are errors", async () => {
    const r = await run(["--security-opt", "systempaths=unconfined", "sh", "-c", "wc -c < /proc/timer_list"]);
    expect(Number(r.stdout.trim()), explain(r)).toBeGreaterThan(0);
    const bad = await run(["--security-opt", "bogus=1", "true"]);
    expect(bad.code).toBe(125);
    expect(bad.stderr).toContain('Invalid --security-opt "bogus=1"');
    expect(bad.stderr).not.toContain("    at ");
  });
});

describe("capability sets of OCI bundles", () => {
  itIf(skip, "a non-root user with ambient capabilities keeps exactly those across execve", async () => {
    const caps = ["CAP_NET_BIND_SERVICE"];
    const b = await makeBundle({
      process: { user: { uid: 1000, gid: 1000 }, capabilities: { bounding: ["CAP_CHOWN", ...caps], effective: caps, permitted: caps, inheritable: caps, ambient: caps } } as never,
    });
    try {
      const r = await rt.run(["run", "--bundle", b.dir, uniqueId()]);
      expect(r.code, explain(r)).toBe(0);
      const s = parseKv(r.stdout);
      expect([s.CapEff, s.CapPrm, s.CapInh, s.CapAmb]).toEqual(Array(4).fill("0000000000000400"));
      expect(s.CapBnd).toBe("0000000000000401");
    } finally {
      b.cleanup();
    }
  });
});
