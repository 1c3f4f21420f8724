/**
 * `pelagos exec`: joins every namespace of the running container and gets
 * the container's own restrictions (capability bounding set, seccomp,
 * no_new_privs) — checked with /probe, inside and through exec.
 */
import { beforeAll, describe, expect } from "bun:test";
import { existsSync, readFileSync, readlinkSync } from "node:fs";
import { busyboxRootfs } from "../helpers/rootfs.ts";
import { explain, uniqueId } from "../helpers/pelagos.ts";
import { parseKv } from "../helpers/probe.ts";
import { itIf, requires } from "../helpers/requires.ts";
import { pidsWithArg, until, useLifecycleRoot } from "./lifecycle-helpers.ts";

const skip = requires("root", "busybox", "pelagos");
const rt = useLifecycleRoot();
let rootfs = "";
let securityFlags: string[] = [];
beforeAll(async () => {
  if (skip) return;
  rootfs = await busyboxRootfs();
  // once `run` takes --security-opt, compare with no_new_privs on as well
  const help = await rt.run(["run", "--help"]);
  if (help.stdout.includes("security-opt")) securityFlags = ["--security-opt", "no-new-privileges"];
});

const dir = (name: string) => `${rt.root}/containers/${name}`;

/** A container that reports its own view (status + ns) in its log, then sleeps. */
/** Calls the seccomp profile gates on capabilities (Docker's includes/excludes): the answers must not differ in exec. */
const SYSCALLS = ["unshare", "unshare mnt", "bpf", "mount", "syslog", "keyctl", "personality 8", "clone-newuser", "clone3", "setns", "swapon"]
  .map((c) => `/probe syscall ${c}`).join("; ");

async function reporter(flags: string[] = []): Promise<{ name: string; status: Record<string, string>; ns: Record<string, string>; syscalls: string }> {
  const name = uniqueId();
  const r = await rt.run(["run", "-d", ...flags, "--name", name, "--rootfs", rootfs, "sh", "-c", `/probe status; echo ===; /probe ns; echo ===; ${SYSCALLS}; echo ===; exec sleep 1000`]);
  expect(r.code, explain(r)).toBe(0);
  expect(await until(() => readFileSync(`${dir(name)}/stdout.log`, "utf8").split("===").length >= 4)).toBe(true);
  const logs = (await rt.run(["logs", name])).stdout.split("===\n");
  return { name, status: parseKv(logs[0]!), ns: parseKv(logs[1]!), syscalls: logs[2]! };
}

describe("pelagos exec", () => {
  itIf(skip, "gets the container's capability bounding set, seccomp mode and no_new_privs", async () => {
    const c = await reporter(securityFlags);
    const r = await rt.run(["exec", c.name, "/probe", "status"]);
    expect(r.code, explain(r)).toBe(0);
    const e = parseKv(r.stdout);
    for (const k of ["CapBnd", "CapEff", "CapPrm", "CapInh", "CapAmb", "NoNewPrivs", "Seccomp", "Seccomp_filters", "Uid", "Gid"]) expect(e[k], k).toBe(c.status[k]);
    // the same filter: the same answers to calls it gates
    const sc = await rt.run(["exec", c.name, "sh", "-c", SYSCALLS]);
    expect(sc.stdout).toBe(c.syscalls);
    // a non-root user gets the bounding set but no effective capabilities (docker's rule)
    const u = parseKv((await rt.run(["exec", "-u", "app", c.name, "/probe", "status"])).stdout);
    expect(u.CapBnd).toBe(c.status.CapBnd);
    expect(u.CapEff).toBe("0000000000000000");
    expect(u.Uid).toBe("1000 1000 1000 1000");
  });

  itIf(skip, "joins every namespace of the container, the PID namespace included", async () => {
    const c = await reporter();
    const r = await rt.run(["exec", c.name, "/probe", "ns"]);
    expect(r.code, explain(r)).toBe(0);
    const ns = parseKv(r.stdout);
    for (const k of ["mnt", "pid", "net", "uts", "ipc", "cgroup", "user"]) expect(ns[k], k).toBe(c.ns[k]);
    expect(ns.pid).not.toBe(readlinkSync("/proc/self/ns/pid").match(/\[(\d+)\]/)![1]);
    const st = parseKv((await rt.run(["exec", c.name, "/probe", "status"])).stdout);
    // born inside the namespace with its parent (the trampoline) outside it: getppid() is 0, like the init's
    expect(st.PPid).toBe("0");
    expect(st.Pid).not.toBe("1");
    const ps = await rt.run(["exec", c.name, "ps", "-o", "pid,args"]);
    expect(ps.stdout).toMatch(/^\s*1 sleep 1000$/m);
    expect((await rt.run(["exec", c.name, "hostname"])).stdout.trim()).toBe(c.name);
  });

  itIf(skip ?? requires("userns"), "joins the container's user namespace (--uidmap): root inside is an unprivileged uid outside", async () => {
    const c = await reporter(["--uidmap", "0:300000:65536"]);
    const r = await rt.run(["exec", c.name, "sh", "-c", "cat /proc/self/uid_map; /probe ns; /probe status"]);
    expect(r.code, explain(r)).toBe(0);
    expect(r.stdout.trim().split("\n")[0]!.trim().split(/\s+/)).toEqual(["0", "300000", "65536"]);
    const kv = parseKv(r.stdout);
    expect(kv.user).toBe(c.ns.user);
    expect(kv.user).not.toBe(readlinkSync("/proc/self/ns/user").match(/\[(\d+)\]/)![1]);
    expect(kv.CapBnd).toBe(c.status.CapBnd);
    const marker = `${60000 + Math.floor(Math.random() * 4000)}`;
    expect((await rt.run(["exec", "-d", c.name, "sleep", marker])).code).toBe(0);
    expect(await until(() => pidsWithArg(marker).length === 1)).toBe(true);
    expect(readFileSync(`/proc/${pidsWithArg(marker)[0]}/status`, "utf8")).toMatch(/^Uid:\s+300000\s/m);
  });

  itIf(skip, "enters the container's cgroup; the supervisor removes the cgroup after the exit", async () => {
    const c = await reporter(["--pids-limit", "64"]);
    const s = JSON.parse(readFileSync(`${dir(c.name)}/state.json`, "utf8"));
    const marker = `${64000 + Math.floor(Math.random() * 999)}`;
    expect((await rt.run(["exec", "-d", c.name, "sleep", marker])).code).toBe(0);
    expect(await until(() => pidsWithArg(marker).length === 1)).toBe(true);
    const cg = (pid: number) => readFileSync(`/proc/${pid}/cgroup`, "utf8").split("\n").filter((l) => l && !l.includes("name=systemd")).sort();
    expect(cg(pidsWithArg(marker)[0]!)).toEqual(cg(s.pid));
    // the leaf is the name, plus a hash of the runtime root for roots other than /run/pelagos
    expect(cg(s.pid).some((l) => new RegExp(`/${c.name}(-[0-9a-f]{8})?$`).test(l))).toBe(true);
    // as the kernel shows it: in every hierarchy pelagos manages (the init joined each v1 one itself)
    const dirs: { v1: Record<string, string>; unified?: string } = s.cgroup.dirs;
    const managed = cg(s.pid).filter((l) => {
      const ctrls = l.split(":")[1]!;
      return ctrls === "" ? dirs.unified !== undefined : ctrls.split(",").some((x) => x in dirs.v1);
    });
    expect(managed.length).toBe(new Set(Object.values(dirs.v1)).size + (dirs.unified ? 1 : 0));
    for (const l of managed) expect(l).toMatch(new RegExp(`/${c.name}(-[0-9a-f]{8})?$`));
    const created: string[] = s.cgroup.created;
    expect(created.length).toBeGreaterThan(0);
    expect((await rt.run(["stop", "-t", "0", c.name])).code).toBe(0);
    expect(created.filter((d) => existsSync(d))).toEqual([]);
  });

  itIf(skip, "propagates the exit code; runs with the container's environment, -e, -w and -u", async () => {
    const c = await reporter(["-e", "FROM_RUN=1"]);
    expect((await rt.run(["exec", c.name, "sh", "-c", "exit 7"])).code).toBe(7);
    expect((await rt.run(["exec", c.name, "no-such-program"])).code).toBe(127);
    const r = await rt.run(["exec", "-e", "X=y", "-w", "/tmp", "-u", "app:users", c.name, "sh", "-c", "echo $FROM_RUN $X $HOSTNAME; pwd; id -u; id -g"]);
    expect(r.code, explain(r)).toBe(0);
    expect(r.stdout).toBe(`1 y ${c.name}\n/tmp\n1000\n100\n`);
    expect((await rt.run(["exec", "-i", c.name, "cat"], { stdin: "through stdin\n" })).stdout).toBe("through stdin\n");
  });

  itIf(skip, "exec -d leaves a process in the container; it ends with the container", async () => {
    const c = await reporter();
    const marker = `${5000 + Math.floor(Math.random() * 4000)}`;
    const r = await rt.run(["exec", "-d", c.name, "sleep", marker]);
    expect(r.code, explain(r)).toBe(0);
    expect(await until(() => pidsWithArg(marker).length === 1)).toBe(true);
    const pid = pidsWithArg(marker)[0]!;
    expect(readlinkSync(`/proc/${pid}/ns/pid`)).toBe(`pid:[${c.ns.pid}]`);
    expect((await rt.run(["stop", "-t", "0", c.name])).code).toBe(0);
    expect(await until(() => pidsWithArg(marker).length === 0)).toBe(true);
    const dead = await rt.run(["exec", c.name, "true"]);
    expect(dead.code).toBe(125);
    expect(dead.stderr).toContain("not running");
  });

  itIf(skip || requires("busybox") || (Bun.which("script") ? null : "needs script(1) for a terminal"), "exec -it gets a terminal as its controlling tty", async () => {
    const c = await reporter();
    const p = Bun.spawn(["script", "-qec", `${rt.bin} --root ${rt.root} exec -it ${c.name} /probe tty`, "/dev/null"], { stdin: "ignore", stdout: "pipe" });
    const out = await new Response(p.stdout).text();
    expect(await p.exited).toBe(0);
    const kv = parseKv(out.replaceAll("\r", ""));
    expect(kv.isatty0).toBe("1");
    expect(kv.isatty1).toBe("1");
    expect(kv.ctty).toBe("1");
    expect(kv.ttyname0).toMatch(/^\/dev\/pts\/\d+$/);
  });
});
