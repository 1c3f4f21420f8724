/**
 * Cgroup behaviour of the pelagos binary, shared by the host suite
 * (cgroups-run.test.ts: hybrid or whatever this host has) and the guest suite
 * (test/vm-guest/pelagos-cgroups.test.ts: pure cgroup v2 in qemu). What is
 * checked is what the kernel says: exit statuses, cgroup files, /proc inside.
 */
import { afterAll, beforeAll, describe, expect } from "bun:test";
import { existsSync, readdirSync, readFileSync, writeFileSync, statSync } from "node:fs";
import { makeTempDir, removeTempDir } from "../helpers/tmp.ts";
import { explain, PELAGOS_BIN, type RuntimeRoot, uniqueId } from "../helpers/pelagos.ts";
import { busyboxRootfs, makeBundle } from "../helpers/rootfs.ts";
import { itIf } from "../helpers/requires.ts";

type Dirs = { unified?: string; v1: Record<string, string> };

export function cgroupCases(label: string, skip: string | null, rt: RuntimeRoot, mode: () => "v2" | "hybrid"): void {
  let rootfs = "";
  const runNames: string[] = [];
  beforeAll(async () => {
    if (!skip) rootfs = await busyboxRootfs();
  });
  afterAll(async () => {
    // spawnSync, not rt.run: cleanup must not depend on the harness's output files
    for (const n of runNames) Bun.spawnSync([PELAGOS_BIN, "--root", rt.root, "rm", "-f", n], { stdout: "ignore", stderr: "ignore" });
  });

  const named = () => {
    const n = uniqueId("pelagos-cg");
    runNames.push(n);
    return n;
  };
  const runState = (name: string) => JSON.parse(readFileSync(`${rt.root}/containers/${name}/state.json`, "utf8"));
  const ociState = (id: string) => JSON.parse(readFileSync(`${rt.root}/${id}/state.json`, "utf8"));
  const allDirs = (d: Dirs) => [...(d.unified ? [d.unified] : []), ...Object.values(d.v1)];
  const file = (d: Dirs, v2: string, v1: [string, string]) =>
    readFileSync(mode() === "v2" ? `${d.unified}/${v2}` : `${d.v1[v1[0]]}/${v1[1]}`, "utf8").trim();
  /** A detached-looking `pelagos run` (foreground pelagos in the background of the test). */
  const background = (args: string[]) =>
    Bun.spawn([PELAGOS_BIN, "--root", rt.root, "run", "--rootfs", rootfs, ...args], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const until = async (ok: () => boolean | Promise<boolean>, ms = 30_000) => {
    for (const end = Date.now() + ms; Date.now() < end; await Bun.sleep(50)) if (await ok()) return true;
    return false;
  };
  const stats = async (name: string) => {
    const r = await rt.run(["stats", "--no-stream", "--format", "json", name]);
    expect(r.code, explain(r)).toBe(0);
    return JSON.parse(r.stdout.trim().split("\n")[0]!).Raw as Record<string, number>;
  };
  const running = (name: string) => existsSync(`${rt.root}/containers/${name}/state.json`) && runState(name).status === "running" && runState(name).cgroup;

  describe(`cgroups (${label})`, () => {
    itIf(skip, "the container sees its own cgroup as the root: every /proc/self/cgroup line ends in :/", async () => {
      const r = await rt.run(["run", "--rm", "--rootfs", rootfs, "cat", "/proc/self/cgroup"]);
      expect(r.code, explain(r)).toBe(0);
      const lines = r.stdout.trim().split("\n");
      expect(lines).toContain("0::/");
      for (const l of lines) expect(l).toMatch(/:\/$/);
      // /sys/fs/cgroup shows the container's own cgroup: its limit, not the host's
      const f = mode() === "v2" ? "/sys/fs/cgroup/memory.max" : "/sys/fs/cgroup/memory/memory.limit_in_bytes";
      const m = await rt.run(["run", "--rm", "--memory", "40m", "--rootfs", rootfs, "cat", f]);
      expect(m.code, explain(m)).toBe(0);
      expect(m.stdout.trim()).toBe(String(40 << 20));
    }, 60_000);

    itIf(skip ?? (mode() === "v2" && existsSync("/dev/vda") ? null : "needs pure cgroup v2 and a block device (/dev/vda in the test VM)"),
      "an io limit is visible for a block device: io.max of the container's cgroup, seen from inside", async () => {
        const dev = statSync("/dev/vda");
        const majMin = `${Math.floor(dev.rdev / 256)}:${dev.rdev % 256}`;
        const r = await rt.run(["run", "--rm", "--device-read-bps", "/dev/vda:1mb", "--device-write-iops", "/dev/vda:100",
          "--rootfs", rootfs, "cat", "/sys/fs/cgroup/io.max"]);
        expect(r.code, explain(r)).toBe(0);
        expect(r.stdout).toContain(`${majMin} rbps=1048576 wbps=max riops=max wiops=100`);
      }, 60_000);

    itIf(skip, "a memory hog under --memory 32m is OOM-killed: status 137, OOMKilled recorded, cgroup gone after rm", async () => {
      const name = named();
      const r = await rt.run(["run", "--name", name, "--memory", "32m", "--rootfs", rootfs, "tail", "/dev/zero"], { timeoutMs: 90_000 });
      expect(r.code, explain(r)).toBe(137);
      const s = runState(name);
      expect(s.oom_killed).toBe(true);
      expect(s.exit_code).toBe(137);
      expect(s.cgroup).toBeUndefined(); // destroyed when the foreground run ended
      expect(s.resources.memory.limit).toBe(32 << 20);
      const i = await rt.run(["inspect", name]);
      expect(i.code, explain(i)).toBe(0);
      const info = JSON.parse(i.stdout);
      expect(info[0].State).toMatchObject({ OOMKilled: true, ExitCode: 137 });
      expect((await rt.run(["rm", name])).code).toBe(0);
    }, 120_000);

    itIf(skip, "a fork bomb under --pids-limit 20 is contained", async () => {
      // The bomb keeps what it forked alive; the init only uses builtins (a fork of its own would fail too).
      const script =
        "( while :; do sleep 60 & done ) 2>/dev/null & i=0; while [ $i -lt 100000 ]; do i=$((i+1)); set -- /proc/[0-9]*; [ $# -ge 20 ] && break; done; " +
        "j=0; while [ $j -lt 2000 ]; do j=$((j+1)); done; set -- /proc/[0-9]*; echo count=$#";
      const r = await rt.run(["run", "--rm", "--pids-limit", "20", "--rootfs", rootfs, "sh", "-c", script], { timeoutMs: 90_000 });
      expect(r.code, explain(r)).toBe(0);
      const count = Number(/count=(\d+)/.exec(r.stdout)?.[1] ?? "NaN");
      expect(count, explain(r)).toBeGreaterThanOrEqual(15);
      expect(count, explain(r)).toBeLessThanOrEqual(20);
    }, 120_000);

    itIf(skip, "--cpus 0.5 throttles: cpu quota set, nr_throttled grows (seen by stats); update changes limits; rm removes the cgroup", async () => {
      const name = named();
      const p = background(["--name", name, "--cpus", "0.5", "--memory", "64m", "sh", "-c", "while :; do :; done"]);
      try {
        expect(await until(() => running(name)), "container running").toBe(true);
        const dirs: Dirs = runState(name).cgroup.dirs;
        if (mode() === "v2") expect(file(dirs, "cpu.max", ["cpu", "cpu.cfs_quota_us"])).toBe("50000 100000");
        else expect(file(dirs, "cpu.max", ["cpu", "cpu.cfs_quota_us"])).toBe("50000");
        expect(await until(async () => ((await stats(name)).nrThrottled ?? 0) > 0)).toBe(true);
        const s = await stats(name);
        expect(s.memoryLimit).toBe(64 << 20);
        expect(s.pids).toBe(1);

        const u = await rt.run(["update", "--memory", "128m", "--pids-limit", "50", name]);
        expect(u.code, explain(u)).toBe(0);
        expect(file(dirs, "memory.max", ["memory", "memory.limit_in_bytes"])).toBe(String(128 << 20));
        expect(file(dirs, "pids.max", ["pids", "pids.max"])).toBe("50");
        expect(runState(name).resources.memory.limit).toBe(128 << 20);
        // runc's form: a JSON LinuxResources file
        const res = `${makeTempDir("res")}/r.json`;
        writeFileSync(res, JSON.stringify({ pids: { limit: 60 } }));
        const uf = await rt.run(["update", "-r", res, name]);
        expect(uf.code, explain(uf)).toBe(0);
        expect(file(dirs, "pids.max", ["pids", "pids.max"])).toBe("60");
        expect(runState(name).resources.pids.limit).toBe(60);
        removeTempDir(res.slice(0, -"/r.json".length));
        const bad = await rt.run(["update", "--memory", "lots", name]);
        expect(bad.code).not.toBe(0);
        expect(bad.stderr).toContain('Invalid value "lots" for --memory');

        const rm = await rt.run(["rm", "-f", name]);
        expect(rm.code, explain(rm)).toBe(0);
        await p.exited;
        for (const d of allDirs(dirs)) expect(existsSync(d), d).toBe(false);
      } finally {
        if (p.exitCode === null) p.kill(9);
      }
    }, 120_000);

    itIf(skip, "pause freezes every process (OCI status paused, no CPU used), unpause thaws; delete --force removes the cgroup", async () => {
      const id = uniqueId("pelagos-cg");
      const b = await makeBundle({ args: ["sh", "-c", "setsid sh -c 'while :; do :; done' & while :; do :; done"] });
      try {
        const c = await rt.run(["create", "--bundle", b.dir, id]);
        expect(c.code, explain(c)).toBe(0);
        expect((await rt.run(["start", id])).code).toBe(0);
        const dirs: Dirs = ociState(id).cgroup.dirs;
        expect(await until(async () => (await stats(id)).pids === 2)).toBe(true);
        const p = await rt.run(["pause", id]);
        expect(p.code, explain(p)).toBe(0);
        expect(JSON.parse((await rt.run(["state", id])).stdout).status).toBe("paused");
        const a = (await stats(id)).cpuUsageUsec;
        await Bun.sleep(300);
        expect((await stats(id)).cpuUsageUsec).toBe(a);
        const again = await rt.run(["pause", id]);
        expect(again.code).toBe(1);
        expect(again.stderr).toContain("it is paused");
        expect((await rt.run(["unpause", id])).code).toBe(0);
        expect(JSON.parse((await rt.run(["state", id])).stdout).status).toBe("running");
        const d = await rt.run(["delete", "--force", id]);
        expect(d.code, explain(d)).toBe(0);
        for (const dir of allDirs(dirs)) expect(existsSync(dir), dir).toBe(false);
      } finally {
        await rt.run(["delete", "--force", id]);
        b.cleanup();
      }
    }, 120_000);

    itIf(skip, "kill --all reaches a setsid'd process; a device without a rule cannot be opened even after mknod", async () => {
      const id = uniqueId("pelagos-cg");
      const caps = ["CAP_MKNOD", "CAP_KILL", "CAP_AUDIT_WRITE", "CAP_NET_BIND_SERVICE"];
      const b = await makeBundle({
        args: ["sh", "-c", "mknod /dev/xsda b 8 0 && echo mknod=ok; head -c 1 /dev/xsda >/dev/null; echo open=$?; head -c 1 /dev/zero >/dev/null; echo zero=$?"],
        process: { capabilities: { bounding: caps, effective: caps, permitted: caps, ambient: [], inheritable: [] } },
      });
      try {
        const r = await rt.run(["run", "--bundle", b.dir, id]);
        expect(r.code, explain(r)).toBe(0);
        expect(r.stdout).toContain("mknod=ok");
        expect(r.stdout).toContain("open=1");
        expect(r.stdout).toContain("zero=0");
        expect(r.stderr).toContain("Operation not permitted");
      } finally {
        await rt.run(["delete", "--force", id]);
        b.cleanup();
      }
      const id2 = uniqueId("pelagos-cg");
      const b2 = await makeBundle({ args: ["sh", "-c", "setsid sleep 1000 & sleep 1000"] });
      try {
        expect((await rt.run(["create", "--bundle", b2.dir, id2])).code).toBe(0);
        expect((await rt.run(["start", id2])).code).toBe(0);
        expect(await until(async () => (await stats(id2)).pids === 2)).toBe(true);
        const dirs: Dirs = ociState(id2).cgroup.dirs;
        const k = await rt.run(["kill", "--all", id2, "KILL"]);
        expect(k.code, explain(k)).toBe(0);
        const procs = (d: string) => readFileSync(`${d}/cgroup.procs`, "utf8").trim();
        expect(await until(() => allDirs(dirs).every((d) => procs(d) === ""))).toBe(true);
        expect((await rt.run(["delete", id2])).code).toBe(0);
        for (const dir of allDirs(dirs)) expect(existsSync(dir), dir).toBe(false);
      } finally {
        await rt.run(["delete", "--force", id2]);
        b2.cleanup();
      }
    }, 120_000);

    itIf(skip, "a failed start leaves no cgroup; cgroupsPath in the systemd form and unenforceable limits are clear errors", async () => {
      // a container's leaf is its name, plus a hash of the runtime root for roots other than /run/pelagos
      const leftovers = (leaf: string) =>
        ["/sys/fs/cgroup/pelagos", ...readdirSync("/sys/fs/cgroup").map((h) => `/sys/fs/cgroup/${h}/pelagos`)]
          .filter((p) => existsSync(p))
          .flatMap((p) => readdirSync(p).filter((e) => e === leaf || e.startsWith(`${leaf}-`)).map((e) => `${p}/${e}`));
      const name = named();
      const r = await rt.run(["run", "--name", name, "--memory", "32m", "--rootfs", rootfs, "/no/such/program"]);
      expect(r.code, explain(r)).toBe(127);
      expect(leftovers(name)).toEqual([]);
      const id = uniqueId("pelagos-cg");
      const b = await makeBundle({ linux: { cgroupsPath: "system.slice:pelagos:x" } });
      try {
        const c = await rt.run(["create", "--bundle", b.dir, id]);
        expect(c.code).toBe(1);
        expect(c.stderr).toContain('linux.cgroupsPath: cannot use the systemd form "system.slice:pelagos:x"');
        if (mode() === "hybrid") {
          b.config.linux!.cgroupsPath = undefined;
          (b.config.linux as { resources?: object }).resources = { unified: { "memory.high": "1048576" } };
          b.save();
          const u = await rt.run(["create", "--bundle", b.dir, id]);
          expect(u.code).toBe(1);
          expect(u.stderr).toContain("memory.high");
        }
        expect(leftovers(id)).toEqual([]);
        expect(existsSync(`${rt.root}/${id}`)).toBe(false);
      } finally {
        await rt.run(["delete", "--force", id]);
        b.cleanup();
      }
    }, 60_000);

    itIf(skip, "a bad limit is refused before anything is created", async () => {
      const r = await rt.run(["run", "--rm", "--cpus", "lots", "--rootfs", rootfs, "true"]);
      expect(r.code).toBe(125);
      expect(r.stderr).toContain('Invalid value "lots" for --cpus');
      const s = await rt.run(["run", "--rm", "--rootfs", rootfs, "--cgroup-parent", "a/../b", "true"]);
      expect(s.code).toBe(125);
      expect(s.stderr).toContain('".." is not allowed');
    });
  });
}
