/**
 * Detached `pelagos run` containers and the verbs that manage them: run -d,
 * ps, logs, stop, kill, wait, inspect, rm, start, restart, attach, --init.
 * What happened is checked from the kernel's side (/proc, files the program
 * wrote), not only from what pelagos prints.
 */
import { describe, expect } from "bun:test";
import { existsSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { useRootfsAndScratch } from "../helpers/rootfs.ts";
import { explain, uniqueId } from "../helpers/pelagos.ts";
import { parseKv } from "../helpers/probe.ts";
import { itIf, requires } from "../helpers/requires.ts";
import { lines, pidsWithArg, until, useLifecycleRoot } from "./lifecycle-helpers.ts";

const skip = requires("root", "busybox", "pelagos");
const rt = useLifecycleRoot();
const fx = useRootfsAndScratch(skip, "pelagos-lc"); // fx.scratch: a volume the probes write to

function hasMemoryController(): boolean {
  if (existsSync("/sys/fs/cgroup/memory")) return true;
  try {
    return readFileSync("/sys/fs/cgroup/cgroup.controllers", "utf8").split(/\s+/).includes("memory");
  } catch {
    return false;
  }
}

const runD = (args: string[], flags: string[] = []) => rt.run(["run", "-d", ...flags, "--rootfs", fx.rootfs, ...args]);
const dir = (name: string) => `${rt.root}/containers/${name}`;
const state = (name: string) => JSON.parse(readFileSync(`${dir(name)}/state.json`, "utf8"));
const psJson = async (flags: string[] = ["-a"]) => JSON.parse((await rt.run(["ps", ...flags, "--format", "json"])).stdout) as { name: string; state: string; exitCode?: number; pid: number }[];

describe("run -d", () => {
  itIf(skip, "prints the name once the program runs; a supervisor owns it and records its exit", async () => {
    const name = uniqueId();
    const r = await runD(["sh", "-c", "echo out1; echo err1 >&2; sleep 1; read x || exit 1; echo never"], ["--name", name]);
    expect(r.code, explain(r)).toBe(0);
    expect(r.stdout.trim()).toBe(name);
    const s = state(name);
    expect(s.detached).toBe(true);
    // the container's parent is the supervisor, itself no longer a child of pelagos
    expect(Number(readFileSync(`/proc/${s.pid}/stat`, "utf8").split(") ")[1]!.split(" ")[1])).toBe(s.watcher_pid);
    expect((await psJson([])).find((x) => x.name === name)?.state).toBe("running");
    expect(await until(() => readFileSync(`${dir(name)}/stdout.log`, "utf8").includes("out1"))).toBe(true);
    // stdin is /dev/null: `read` fails and the program exits 1
    const w = await rt.run(["wait", name]);
    expect(w.stdout.trim(), explain(w)).toBe("1");
    const exit = JSON.parse(readFileSync(`${dir(name)}/exit.json`, "utf8"));
    expect(exit.exitCode).toBe(1);
    expect(Date.parse(exit.finishedAt)).toBeGreaterThan(Date.parse(s.started_at) - 1000);
    const logs = await rt.run(["logs", name]);
    expect(logs.stdout).toBe("out1\n");
    expect(logs.stderr).toBe("err1\n");
    const p = (await psJson()).find((x) => x.name === name);
    expect(p?.state).toBe("exited");
    expect(p?.exitCode).toBe(1);
    const i = JSON.parse((await rt.run(["inspect", name])).stdout)[0];
    expect(i.State.Status).toBe("exited");
    expect(i.State.ExitCode).toBe(1);
    expect(i.OciConfig.process.args[0]).toBe("sh");
  });

  itIf(skip, "a program that cannot start is an error and leaves no container", async () => {
    const name = uniqueId();
    const r = await runD(["/no/such/program"], ["--name", name]);
    expect(r.code, explain(r)).toBe(127);
    expect(r.stdout).toBe("");
    expect(existsSync(dir(name))).toBe(false);
    expect((await psJson()).some((x) => x.name === name)).toBe(false);
  });

  itIf(skip, "a name in use is refused; generated names never collide under 50 concurrent starts", async () => {
    const name = uniqueId();
    expect((await runD(["sleep", "1000"], ["--name", name])).code).toBe(0);
    const again = await runD(["true"], ["--name", name]);
    expect(again.code).toBe(125);
    expect(again.stderr).toContain("already in use");
    const marker = `${70000 + Math.floor(Math.random() * 9999)}`;
    const rs = await Promise.all(Array.from({ length: 50 }, () => runD(["sleep", marker], ["-l", `batch=${marker}`])));
    for (const r of rs) expect(r.code, explain(r)).toBe(0);
    const names = rs.map((r) => r.stdout.trim());
    expect(new Set(names).size).toBe(50);
    const listed = lines(await rt.run(["ps", "-q", "--filter", `label=batch=${marker}`]));
    expect(listed.sort()).toEqual([...names].sort());
    expect(pidsWithArg(marker).length).toBe(50);
    const rm = await rt.run(["rm", "-f", ...names, name], { timeoutMs: 60_000 });
    expect(rm.code, explain(rm)).toBe(0);
    expect(pidsWithArg(marker)).toEqual([]);
    expect(readdirSync(`${rt.root}/containers`).filter((n) => names.includes(n))).toEqual([]);
  }, 120_000);
});

describe("stop, kill, rm", () => {
  itIf(skip, "stop delivers SIGTERM to the application itself (PID 1 of its namespace), which exits cleanly", async () => {
    const name = uniqueId();
    const marker = `${fx.scratch}/${name}`;
    expect((await runD(["/probe", "sleep-trap", "SIGTERM", "/vol/" + name], ["--name", name, "-v", `${fx.scratch}:/vol`])).code).toBe(0);
    expect(await until(() => readFileSync(`${dir(name)}/stdout.log`, "utf8").includes("ready"))).toBe(true);
    const r = await rt.run(["stop", name]);
    expect(r.code, explain(r)).toBe(0);
    expect(readFileSync(marker, "utf8").trim()).toBe("15");
    expect((await rt.run(["wait", name])).stdout.trim()).toBe("0");
  });

  itIf(skip, "--stop-signal is what stop sends first", async () => {
    const name = uniqueId();
    expect((await runD(["/probe", "sleep-trap", "SIGUSR1", `/vol/${name}`], ["--name", name, "-v", `${fx.scratch}:/vol`, "--stop-signal", "USR1"])).code).toBe(0);
    expect(await until(() => readFileSync(`${dir(name)}/stdout.log`, "utf8").includes("ready"))).toBe(true);
    expect((await rt.run(["stop", name])).code).toBe(0);
    expect(readFileSync(`${fx.scratch}/${name}`, "utf8").trim()).toBe("10");
  });

  itIf(skip, "a signal sent to the supervisor is forwarded to the application", async () => {
    const name = uniqueId();
    expect((await runD(["/probe", "sleep-trap", "SIGUSR2", `/vol/${name}`], ["--name", name, "-v", `${fx.scratch}:/vol`])).code).toBe(0);
    expect(await until(() => readFileSync(`${dir(name)}/stdout.log`, "utf8").includes("ready"))).toBe(true);
    process.kill(state(name).watcher_pid, "SIGUSR2");
    expect((await rt.run(["wait", name])).stdout.trim()).toBe("0");
    expect(readFileSync(`${fx.scratch}/${name}`, "utf8").trim()).toBe("12");
  });

  itIf(skip, "a program that ignores the stop signal is killed after the timeout", async () => {
    const name = uniqueId();
    expect((await runD(["sleep", "1000"], ["--name", name])).code).toBe(0);
    const pid = state(name).pid;
    const r = await rt.run(["stop", "-t", "1", name]);
    expect(r.code, explain(r)).toBe(0);
    expect(existsSync(`/proc/${pid}`)).toBe(false);
    expect((await rt.run(["wait", name])).stdout.trim()).toBe("137");
  });

  itIf(skip, "kill sends SIGKILL by default, -s another signal; rm needs -f for a running container", async () => {
    const name = uniqueId();
    expect((await runD(["/probe", "sleep-trap", "SIGHUP", `/vol/${name}`], ["--name", name, "-v", `${fx.scratch}:/vol`])).code).toBe(0);
    expect(await until(() => readFileSync(`${dir(name)}/stdout.log`, "utf8").includes("ready"))).toBe(true);
    expect((await rt.run(["kill", "-s", "HUP", name])).code).toBe(0);
    expect(await until(() => existsSync(`${fx.scratch}/${name}`))).toBe(true);
    const n2 = uniqueId();
    expect((await runD(["sleep", "1000"], ["--name", n2])).code).toBe(0);
    const refused = await rt.run(["rm", n2]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("running");
    expect((await rt.run(["kill", n2])).code).toBe(0);
    expect((await rt.run(["wait", n2])).stdout.trim()).toBe("137");
    const rm = await rt.run(["rm", n2, name]);
    expect(rm.code, explain(rm)).toBe(0);
    expect(existsSync(dir(n2))).toBe(false);
  });

  itIf(skip ?? (hasMemoryController() ? null : "needs the memory controller"),
    "an OOM kill is recorded by the supervisor (exit.json, inspect)", async () => {
      const name = uniqueId();
      expect((await runD(["sh", "-c", "x=aaaaaaaaaaaaaaaa; while true; do x=$x$x; done"], ["--name", name, "--memory", "16m", "--memory-swap", "16m"])).code).toBe(0);
      expect((await rt.run(["wait", name], { timeoutMs: 30_000 })).stdout.trim()).toBe("137");
      const i = JSON.parse((await rt.run(["inspect", name])).stdout)[0];
      expect(i.State.OOMKilled).toBe(true);
    }, 40_000);

  itIf(skip, "a paused container is listed as paused, and stop / rm -f still end it", async () => {
    const name = uniqueId();
    expect((await runD(["/probe", "sleep-trap", "SIGTERM", `/vol/${name}`], ["--name", name, "-v", `${fx.scratch}:/vol`])).code).toBe(0);
    expect(await until(() => readFileSync(`${dir(name)}/stdout.log`, "utf8").includes("ready"))).toBe(true);
    expect((await rt.run(["pause", name])).code).toBe(0);
    expect((await psJson([])).find((x) => x.name === name)?.state).toBe("paused");
    expect((await rt.run(["stop", "-t", "5", name])).code).toBe(0);
    expect(readFileSync(`${fx.scratch}/${name}`, "utf8").trim()).toBe("15");
    const n2 = uniqueId();
    expect((await runD(["sleep", "1000"], ["--name", n2])).code).toBe(0);
    expect((await rt.run(["pause", n2])).code).toBe(0);
    const pid = state(n2).pid as number;
    const rm = await rt.run(["rm", "-f", n2]);
    expect(rm.code, explain(rm)).toBe(0);
    // The frozen process is gone (rm -f thawed and killed it), and so is the record.
    expect(await until(() => !existsSync(`/proc/${pid}`))).toBe(true);
    expect(existsSync(dir(n2))).toBe(false);
  });

  itIf(skip, "a recycled pid is never taken for the container (start time mismatch)", async () => {
    const name = uniqueId();
    expect((await runD(["true"], ["--name", name])).code).toBe(0);
    await rt.run(["wait", name]);
    // point the record at a live process of ours that is not the container
    const victim = Bun.spawn(["sleep", "1000"]);
    try {
      const s = state(name);
      rmSync(`${dir(name)}/exit.json`);
      writeFileSync(`${dir(name)}/state.json`, JSON.stringify({ ...s, status: "running", pid: victim.pid, pid_start_time: 1 }));
      expect((await psJson()).find((x) => x.name === name)?.state).toBe("dead");
      expect((await rt.run(["kill", name])).code).not.toBe(0);
      expect((await rt.run(["stop", "-t", "0", name])).code).toBe(0);
      expect((await rt.run(["exec", name, "true"])).code).not.toBe(0);
      expect((await rt.run(["rm", "-f", name])).code).toBe(0);
      expect(victim.exitCode).toBe(null);
      expect(existsSync(`/proc/${victim.pid}`)).toBe(true);
    } finally {
      victim.kill(9);
      await victim.exited;
    }
  });
});

describe("logs", () => {
  itIf(skip, "logs are bounded and rotated; reading them across a rotation loses nothing kept", async () => {
    const name = uniqueId();
    const script = "i=0; while [ $i -lt 400 ]; do echo line-$i; i=$((i+1)); done; printf tail-partial; sleep 0.2; echo -end";
    expect((await runD(["sh", "-c", script], ["--name", name, "--log-opt", "max-size=2k", "--log-opt", "max-file=3"])).code).toBe(0);
    expect((await rt.run(["wait", name])).stdout.trim()).toBe("0");
    const files = readdirSync(dir(name)).filter((f) => f.startsWith("stdout.log"));
    expect(files.sort()).toEqual(["stdout.log", "stdout.log.1", "stdout.log.2"]);
    for (const f of files) expect(statSync(`${dir(name)}/${f}`).size).toBeLessThanOrEqual(2048);
    const out = (await rt.run(["logs", name])).stdout.split("\n");
    expect(out.at(-2)).toBe("tail-partial-end");
    // the kept lines are a contiguous tail of what was written
    const nums = out.filter((l) => l.startsWith("line-")).map((l) => Number(l.slice(5)));
    expect(nums.at(-1)).toBe(399);
    nums.forEach((n, i) => i > 0 && expect(n).toBe(nums[i - 1]! + 1));
    expect((await rt.run(["logs", "--tail", "2", name])).stdout).toBe("line-399\ntail-partial-end\n");
    const ts = (await rt.run(["logs", "-t", "--tail", "1", name])).stdout;
    expect(ts).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z tail-partial-end\n$/);
    expect((await rt.run(["logs", "--since", "2099-01-01T00:00:00Z", name])).stdout).toBe("");
    expect((await rt.run(["logs", "--since", "10m", "--tail", "1", name])).stdout).toBe("tail-partial-end\n");
  });

  itIf(skip, "logs -f follows until the container exits", async () => {
    const name = uniqueId();
    expect((await runD(["sh", "-c", "echo a; sleep 0.5; echo b >&2; sleep 0.3; echo c"], ["--name", name])).code).toBe(0);
    const r = await rt.run(["logs", "-f", name], { timeoutMs: 15_000 });
    expect(r.code, explain(r)).toBe(0);
    expect(r.stdout).toBe("a\nc\n");
    expect(r.stderr).toBe("b\n");
  });
});

describe("start, restart, attach, --init", () => {
  itIf(skip, "start runs a stopped container again with its stored configuration; restart too", async () => {
    const name = uniqueId();
    expect((await runD(["sh", "-c", "echo run-$FOO"], ["--name", name, "-e", "FOO=bar"])).code).toBe(0);
    expect((await rt.run(["wait", name])).stdout.trim()).toBe("0");
    const r = await rt.run(["start", name]);
    expect(r.code, explain(r)).toBe(0);
    expect((await rt.run(["wait", name])).stdout.trim()).toBe("0");
    expect((await rt.run(["logs", name])).stdout).toBe("run-bar\nrun-bar\n");
    const n2 = uniqueId();
    expect((await runD(["sleep", "1000"], ["--name", n2])).code).toBe(0);
    const pid1 = state(n2).pid;
    expect((await rt.run(["restart", "-t", "0", n2])).code).toBe(0);
    const pid2 = state(n2).pid;
    expect(pid2).not.toBe(pid1);
    expect(existsSync(`/proc/${pid1}`)).toBe(false);
    expect((await psJson([])).find((x) => x.name === n2)?.state).toBe("running");
    const a = await rt.run(["start", "-a", name]);
    expect(a.code, explain(a)).toBe(0);
    expect(a.stdout).toBe("run-bar\n");
  });

  itIf(skip, "attach forwards stdin to a container started with -i and returns its exit code", async () => {
    const name = uniqueId();
    expect((await runD(["sh", "-c", "read x; echo got-$x; exit 3"], ["--name", name, "-i"])).code).toBe(0);
    const r = await rt.run(["attach", name], { stdin: "hello\n", timeoutMs: 15_000 });
    expect(r.stdout, explain(r)).toBe("got-hello\n");
    expect(r.code).toBe(3);
  });

  itIf(skip, "run -dit: the supervisor holds the terminal, logs it, and attach types into it", async () => {
    const name = uniqueId();
    expect((await runD(["sh"], ["--name", name, "-i", "-t"])).code).toBe(0);
    const r = await rt.run(["attach", name], { stdin: "echo hi-$((40+2))\nexit 5\n", timeoutMs: 15_000 });
    expect(r.code, explain(r)).toBe(5);
    expect(r.stdout).toContain("hi-42\r\n");
    expect((await rt.run(["logs", name])).stdout).toContain("hi-42\r\n");
    const n2 = uniqueId();
    expect((await runD(["/probe", "tty"], ["--name", n2, "-t"])).code).toBe(0);
    expect((await rt.run(["wait", n2])).stdout.trim()).toBe("0");
    const tty = parseKv((await rt.run(["logs", n2])).stdout.replaceAll("\r", ""));
    expect(tty.isatty1).toBe("1");
    expect(tty.ctty).toBe("1");
    expect(tty.rows).toBe("24");
  });

  itIf(skip ?? (Bun.which("script") ? null : "needs script(1) for a terminal"), "attach on a terminal: ^P ^Q detaches and leaves the container running", async () => {
    const name = uniqueId();
    expect((await runD(["sh"], ["--name", name, "-i", "-t"])).code).toBe(0);
    const cmd = `(printf 'echo hi-$((2+3))\\n'; sleep 0.5; printf '\\020\\021'; sleep 2) | script -qec '${rt.bin} --root ${rt.root} attach ${name}' /dev/null`;
    const p = Bun.spawn(["sh", "-c", cmd], { stdout: "pipe", stderr: "pipe" });
    const out = await new Response(p.stdout).text();
    expect(await p.exited).toBe(0);
    expect(out).toContain("hi-5");
    expect(out).toContain(`Detached from ${name}`);
    expect(JSON.parse((await rt.run(["ps", "--format", "json"])).stdout).some((r: { name: string }) => r.name === name)).toBe(true);
  });

  itIf(skip, "a foreground run can be managed too: exec into it, stop it with its --stop-signal; --init works in the foreground", async () => {
    const name = uniqueId();
    const fg = rt.run(["run", "--name", name, "--rootfs", fx.rootfs, "--init", "--stop-signal", "SIGUSR1", "/probe", "sleep-trap", "SIGUSR1", "/dev/null"], { timeoutMs: 20_000 });
    expect(await until(async () => (await rt.run(["ps", "-q"])).stdout.includes(name))).toBe(true);
    const e = await rt.run(["exec", name, "ps", "-o", "pid,args"]);
    expect(e.stdout, explain(e)).toMatch(/^\s*2 \/probe sleep-trap/m);
    expect((await rt.run(["stop", name])).code).toBe(0);
    const r = await fg;
    expect(r.code, explain(r)).toBe(0);
    expect(r.stdout).toBe("ready\n");
  });

  itIf(skip, "rm -f of a busy foreground container, repeated: rm succeeds and the record and cgroup are gone for good", async () => {
    // rm -f races the foreground pelagos, which removes the cgroup and records the exit as soon
    // as its init dies: each side must tolerate the other, and the record must not come back
    for (let i = 0; i < 8; i++) {
      const name = uniqueId();
      const fg = rt.run(["run", "--name", name, "--cpus", "0.5", "--rootfs", fx.rootfs, "sh", "-c", "while :; do :; done"], { timeoutMs: 20_000 });
      expect(await until(() => existsSync(`${dir(name)}/state.json`) && state(name).status === "running")).toBe(true);
      const cg = state(name).cgroup?.dirs as { unified?: string; v1: Record<string, string> } | undefined;
      expect(cg).toBeDefined();
      const rm = await rt.run(["rm", "-f", name]);
      expect(rm.code, explain(rm)).toBe(0);
      const r = await fg;
      expect(r.code, explain(r)).toBe(137);
      // The foreground pelagos (the only writer of the record) has exited: the record must be gone.
      expect(existsSync(dir(name)), `${name}: record back after rm`).toBe(false);
      for (const d of [cg!.unified, ...Object.values(cg!.v1)]) if (d) expect(existsSync(d), d).toBe(false);
    }
  }, 60_000);

  itIf(skip, "--init: a tiny init is PID 1, forwards signals to the program and reaps orphans", async () => {
    const name = uniqueId();
    expect((await runD(["sh", "-c", "(sleep 0.1 &) ; sleep 1000"], ["--name", name, "--init"])).code).toBe(0);
    await Bun.sleep(400);
    const ps = await rt.run(["exec", name, "ps", "-o", "pid,ppid,stat,args"]);
    expect(ps.code, explain(ps)).toBe(0);
    const rows = ps.stdout.trim().split("\n").slice(1).map((l) => l.trim().split(/\s+/));
    expect(rows.find((r) => r[0] === "1")?.slice(3).join(" ")).toMatch(/pelagos-init$/);
    // (sh execs its last command)
    expect(rows.find((r) => r[0] === "2")?.slice(3).join(" ")).toBe("sleep 1000");
    expect(rows.some((r) => r[2]?.startsWith("Z"))).toBe(false);
    const s = await rt.run(["exec", name, "/probe", "status"]);
    expect(parseKv(s.stdout).Pid).not.toBe("1");
    // sh has no SIGTERM handler: without an init, PID 1 would ignore it
    expect((await rt.run(["stop", "-t", "5", name])).code).toBe(0);
    expect((await rt.run(["wait", name])).stdout.trim()).toBe("143");
  });
});
