/**
 * Tests of the test harness itself, with runc standing in for pelagos: the
 * rootfs, bundles, the probe inside a real container, runtime-root cleanup and
 * the leak checker. When these pass, a pelagos failure in other files is about
 * pelagos, not about the helpers.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findLeaks, takeSnapshot } from "../helpers/leaks.ts";
import { verifyRootfs } from "../helpers/rootfs-manifest.ts";
import { DEFAULT_CAPS } from "../helpers/oci-spec.ts";
import { useRuntimeRoot, uniqueId, explain, createRuntimeRoot } from "../helpers/pelagos.ts";
import { decodeCaps, parseKv, probeBinary } from "../helpers/probe.ts";
import { busyboxRootfs, makeBundle, rootfsCopy, type Bundle, type BundleOptions } from "../helpers/rootfs.ts";
import { describeIf, itIf, requires } from "../helpers/requires.ts";
import { makeTempDir, pruneStaleRuns, removeTempDir, RUN_BASE_PREFIX, RUN_ENV, runBaseDir, runToken } from "../helpers/tmp.ts";
import { waitFor } from "../helpers/wait.ts";

const bundles: Bundle[] = [];
afterAll(() => bundles.forEach((b) => b.cleanup()));
async function bundle(opts: BundleOptions): Promise<Bundle> {
  const b = await makeBundle(opts);
  bundles.push(b);
  return b;
}

describeIf(requires("busybox", "cc"), "busyboxRootfs()", () => {
  test("builds a rootfs with applets, users, /tmp and the probe", async () => {
    const r = await busyboxRootfs();
    expect(readlinkSync(join(r, "bin/sh"))).toBe("/bin/busybox");
    expect(lstatSync(join(r, "tmp")).mode & 0o7777).toBe(0o1777);
    expect(readFileSync(join(r, "etc/passwd"), "utf8")).toContain("app:x:1000:1000:");
    expect(readFileSync(join(r, "etc/group"), "utf8")).toContain("app:x:1000:");
    expect(readFileSync(join(r, "etc/hosts"), "utf8")).toContain("localhost");
    expect(readFileSync(join(r, "probe"))).toEqual(readFileSync(probeBinary()));
    expect(await busyboxRootfs()).toBe(r);
  });

  test("rootfsCopy() gives a private copy that cleanup() removes", async () => {
    const c = await rootfsCopy();
    expect(readlinkSync(join(c.path, "bin/sh"))).toBe("/bin/busybox");
    expect(c.path).not.toBe(await busyboxRootfs());
    c.cleanup();
    expect(existsSync(c.path)).toBe(false);
  });

  test("makeBundle() writes config.json pointing at the shared rootfs read-only", async () => {
    const b = await bundle({ args: ["/probe", "id"], hostname: "h1", namespaces: ["pid", "mount"] });
    const c = JSON.parse(readFileSync(join(b.dir, "config.json"), "utf8"));
    expect(c.root).toEqual({ path: await busyboxRootfs(), readonly: true });
    expect(c.process.args).toEqual(["/probe", "id"]);
    expect(c.process.terminal).toBe(false);
    expect(c.process.env).toContain(`${RUN_ENV}=${runToken()}`);
    expect(c.hostname).toBe("h1");
    expect(c.linux.namespaces).toEqual([{ type: "pid" }, { type: "mount" }]);
  });

  test("makeBundle() refuses mounts onto paths missing from the shared rootfs", async () => {
    const extraMounts = [{ destination: "/nonexistent", type: "tmpfs", source: "tmpfs" }];
    await expect(makeBundle({ extraMounts })).rejects.toThrow(/missing in it/);
    const b = await bundle({ extraMounts, writable: true });
    expect(b.config.root).toEqual({ path: join(b.dir, "rootfs"), readonly: false });
    expect(existsSync(join(b.dir, "rootfs/probe"))).toBe(true);
  });
});

describeIf(requires("root", "runc", "busybox", "cc"), "the probe under runc", () => {
  const rt = useRuntimeRoot("runc");
  const runProbe = async (opts: BundleOptions) => {
    const b = await bundle(opts);
    const r = await rt.run(["run", "--bundle", b.dir, uniqueId()]);
    if (r.code !== 0 && opts.args?.[1] !== "write") throw new Error(explain(r));
    return { r, kv: parseKv(r.stdout), b };
  };

  test("status: PID 1, runc spec's capabilities, no_new_privs", async () => {
    const { kv } = await runProbe({});
    expect(kv.Pid).toBe("1");
    expect(kv.NoNewPrivs).toBe("1");
    expect(decodeCaps(kv.CapEff ?? "")).toEqual([...DEFAULT_CAPS].sort());
    expect(decodeCaps(kv.CapBnd ?? "")).toEqual([...DEFAULT_CAPS].sort());
  });

  test("hostname, id, cwd and env come from the config", async () => {
    const { kv } = await runProbe({ args: ["/probe", "hostname"], hostname: "probe-host" });
    expect(kv.hostname).toBe("probe-host");
    const id = await runProbe({ args: ["/probe", "id"], user: { uid: 1000, gid: 1000, additionalGids: [100] } });
    expect(id.kv).toMatchObject({ uid: "1000", gid: "1000", groups: "100" });
    const cwd = await runProbe({ args: ["/probe", "cwd"], cwd: "/tmp" });
    expect(cwd.kv.cwd).toBe("/tmp");
    const env = await runProbe({ args: ["/probe", "env"], env: ["A=1"] });
    // runc adds HOME when the config has none.
    const lines = env.r.stdout.split("\n").filter((l) => l && !l.startsWith("HOME="));
    expect(lines).toEqual(["A=1", `${RUN_ENV}=${runToken()}`]);
  });

  test("ns: the container's namespaces differ from the host's", async () => {
    const host = parseKv(Bun.spawnSync([probeBinary(), "ns"]).stdout.toString());
    const { kv } = await runProbe({ args: ["/probe", "ns"] });
    for (const ns of ["pid_for_children", "mnt", "net", "uts", "ipc"]) expect(kv[ns]).not.toBe(host[ns]);
    expect(kv.user).toBe(host.user);
  });

  test("read-only shared rootfs refuses writes; a writable copy accepts them", async () => {
    const ro = await runProbe({ args: ["/probe", "write", "/x", "hi"] });
    expect(ro.r.stdout.trim()).toBe("errno=EROFS");
    const rw = await runProbe({ args: ["/probe", "write", "/x", "hi"], writable: true });
    expect(rw.r.stdout.trim()).toBe("ok");
    expect(readFileSync(join(rw.b.rootfs, "x"), "utf8")).toBe("hi");
  });

  test("syscall: capability denials show as EPERM, allowed ones as ok or a bogus-argument errno", async () => {
    const sc = async (...a: string[]) => (await runProbe({ args: ["/probe", "syscall", ...a] })).r.stdout.trim();
    expect(await sc("reboot")).toBe("errno=EPERM");
    expect(await sc("chroot")).toBe("errno=EPERM");
    expect(await sc("mount")).toBe("errno=EPERM");
    expect(await sc("personality")).toBe("ok");
  });

  test("epoll-server works in a new network namespace", async () => {
    const { r } = await runProbe({ args: ["/probe", "epoll-server"] });
    expect(r.stdout.trim()).toBe("ok");
  });

  test("hooks: the probe records the state a createRuntime hook gets on stdin", async () => {
    const out = makeTempDir("hook");
    try {
      const hook = (name: string) => ({ path: probeBinary(), args: ["probe", "stdin-to", join(out, name)] });
      const id = uniqueId();
      const b = await bundle({ args: ["/probe", "exit", "0"], hooks: { createRuntime: [hook("create")], poststop: [hook("poststop")] } });
      const r = await rt.run(["run", "--bundle", b.dir, id]);
      expect(r.code, explain(r)).toBe(0);
      const state = JSON.parse(readFileSync(join(out, "create"), "utf8"));
      expect(state).toMatchObject({ id, status: "creating", bundle: b.dir });
      expect(state.pid).toBeGreaterThan(1);
      expect(JSON.parse(readFileSync(join(out, "poststop"), "utf8")).id).toBe(id);
    } finally {
      removeTempDir(out);
    }
  });

  test("recvtty: the probe receives a terminal container's pty over --console-socket", async () => {
    const dir = makeTempDir("tty");
    const sock = join(dir, "console.sock");
    const recv = Bun.spawn([probeBinary(), "recvtty", sock], { stdout: "pipe", stderr: "pipe", stdin: "ignore" });
    const id = uniqueId();
    try {
      await waitFor("the console socket", () => existsSync(sock));
      const b = await bundle({ args: ["/probe", "tty"], terminal: true });
      const c = await rt.run(["create", "--console-socket", sock, "--bundle", b.dir, id]);
      expect(c.code, explain(c)).toBe(0);
      expect((await rt.run(["start", id])).code).toBe(0);
      const kv = parseKv(await new Response(recv.stdout).text());
      expect(kv).toMatchObject({ isatty0: "1", isatty1: "1", isatty2: "1", ttyname0: "/dev/pts/0", ctty: "1" });
      expect(await recv.exited).toBe(0);
    } finally {
      recv.kill("SIGKILL");
      await rt.run(["delete", "--force", id]);
      removeTempDir(dir);
    }
  });

  test("tty option: the runtime itself runs on a pseudo-terminal", async () => {
    const b = await bundle({ args: ["/probe", "tty"], terminal: true });
    const r = await rt.run(["run", "--bundle", b.dir, uniqueId()], { tty: true });
    expect(r.code, explain(r)).toBe(0);
    expect(parseKv(r.stdout)).toMatchObject({ isatty0: "1", isatty1: "1", ctty: "1" });
  });

  test("exit status and signals reach the runtime", async () => {
    const b = await bundle({ args: ["/probe", "exit", "7"] });
    expect((await rt.run(["run", "--bundle", b.dir, uniqueId()])).code).toBe(7);
  });

  test("create/start/state/kill/delete through RuntimeRoot, output captured in files", async () => {
    const b = await bundle({ args: ["/probe", "sleep-trap", "TERM", "/dev/null"] });
    const id = uniqueId();
    const c = await rt.run(["create", "--bundle", b.dir, id]);
    expect(c.code).toBe(0);
    expect(JSON.parse((await rt.run(["state", id])).stdout).status).toBe("created");
    expect((await rt.run(["start", id])).code).toBe(0);
    await waitFor("the container to print ready", () => readFileSync(c.stdoutPath, "utf8"), (o) => o === "ready\n");
    expect((await rt.run(["kill", id, "TERM"])).code).toBe(0);
    const status = async () => JSON.parse((await rt.run(["state", id])).stdout).status as string;
    await waitFor("state stopped", status, (s) => s === "stopped");
    expect((await rt.run(["delete", id])).code).toBe(0);
  });

  test("RuntimeRoot.cleanup() force-deletes containers left running", async () => {
    const own = createRuntimeRoot("runc");
    const b = await bundle({ args: ["/bin/sleep", "60"] });
    const id = uniqueId();
    expect((await own.run(["create", "--bundle", b.dir, id])).code).toBe(0);
    expect(await own.ids()).toContain(id);
    await own.cleanup();
    expect(existsSync(own.root)).toBe(false);
    expect(findLeaks(takeSnapshot()).filter((l) => l.kind === "process")).toEqual([]);
  });
});

describe("leak checker", () => {
  itIf(requires("busybox", "cc"), "notices a change to the shared rootfs", async () => {
    const r = await busyboxRootfs();
    const f = join(r, `.tamper-test-${runToken()}`);
    // Compared with the state before: someone else may have touched the cache already.
    const before = takeSnapshot();
    const already = verifyRootfs(r);
    writeFileSync(f, "x");
    try {
      expect(verifyRootfs(r).filter((l) => !already.includes(l))).toEqual([expect.stringMatching(/^\+ \.tamper-test-/)]);
      expect(findLeaks(before).filter((l) => l.kind === "rootfs")).toEqual([
        { kind: "rootfs", what: expect.stringContaining(".tamper-test-"), owner: "unknown" },
      ]);
    } finally {
      rmSync(f);
    }
    expect(verifyRootfs(r)).toEqual(already);
  });

  test("sees a new process carrying the run token, and forgets it once gone", async () => {
    const before = takeSnapshot();
    const p = Bun.spawn(["sleep", "30"], { env: { ...process.env, [RUN_ENV]: runToken() } });
    try {
      const leaks = findLeaks(before).filter((l) => l.kind === "process");
      expect(leaks.map((l) => l.what).join("\n")).toContain(`pid ${p.pid} `);
    } finally {
      p.kill("SIGKILL");
      await p.exited;
    }
    expect(findLeaks(before).filter((l) => l.kind === "process")).toEqual([]);
  });

  test("flags an untagged process named probe, but not one of another test run", async () => {
    const before = takeSnapshot();
    const { [RUN_ENV]: _, ...untagged } = process.env;
    const spawn = (env: Record<string, string | undefined>) =>
      Bun.spawn([probeBinary(), "sleep-trap", "TERM", "/dev/null"], { env, stdout: "pipe" });
    const other = spawn({ ...untagged, [RUN_ENV]: "someone-else" });
    const plain = spawn(untagged);
    try {
      // Until it has exec'd, a child still shows this process's environment (and token).
      for (const p of [other, plain]) await p.stdout.getReader().read();
      const found = findLeaks(before).filter((l) => l.kind === "process").map((l) => l.what).join("\n");
      expect(found).toContain(`pid ${plain.pid} `); // untagged: "unknown", fails only in strict mode
      expect(found).not.toContain(`pid ${other.pid} `);
    } finally {
      for (const p of [other, plain]) p.kill("SIGKILL");
      await Promise.all([other.exited, plain.exited]);
    }
  });

  itIf(requires("root"), "sees a new mount and a leftover temp dir", () => {
    const before = takeSnapshot();
    const dir = makeTempDir("leak");
    expect(Bun.spawnSync(["mount", "-t", "tmpfs", "leaktest", dir]).exitCode).toBe(0);
    try {
      const leaks = findLeaks(before);
      expect(leaks.some((l) => l.kind === "mount" && l.what.includes(dir))).toBe(true);
      expect(leaks.some((l) => l.kind === "temp" && l.what === dir)).toBe(true);
    } finally {
      expect(removeTempDir(dir)).toEqual([dir]);
    }
    expect(findLeaks(before).filter((l) => l.kind === "mount")).toEqual([]);
  });

  test("pruneStaleRuns() removes an old run dir of a dead process only", () => {
    const deadPid = (4194304 + 12345).toString(36); // above pid_max: never alive
    const stale = join(tmpdir(), `${RUN_BASE_PREFIX}${deadPid}abcdef`);
    const fresh = join(tmpdir(), `${RUN_BASE_PREFIX}${deadPid}ghijkl`);
    for (const d of [stale, fresh]) mkdirSync(join(d, "x"), { recursive: true });
    const old = new Date(Date.now() - 2 * 3600_000);
    utimesSync(stale, old, old);
    try {
      expect(pruneStaleRuns()).toContain(stale);
      expect(existsSync(stale)).toBe(false);
      expect(existsSync(fresh)).toBe(true);
      expect(existsSync(runBaseDir())).toBe(true);
    } finally {
      for (const d of [stale, fresh]) rmSync(d, { recursive: true, force: true });
    }
  });

  test("reports its own cost", () => {
    const t0 = performance.now();
    findLeaks(takeSnapshot());
    const ms = performance.now() - t0;
    console.log(`leak snapshot + check: ${ms.toFixed(1)} ms`);
  });
});
