/**
 * `pelagos run --rootfs`: what is true inside the container, asked of the
 * kernel through /probe, never taken from what pelagos reports.
 */
import { describe, expect } from "bun:test";
import { existsSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { useRootfsAndScratch } from "../helpers/rootfs.ts";
import { explain, PELAGOS_BIN, useRuntimeRoot, uniqueId } from "../helpers/pelagos.ts";
import { parseKv } from "../helpers/probe.ts";
import { itIf, requires } from "../helpers/requires.ts";

const skip = requires("root", "busybox", "pelagos");
const rt = useRuntimeRoot();
const fx = useRootfsAndScratch(skip, "pelagos-it-");

const run = (args: string[], opts: Parameters<typeof rt.run>[1] = {}) => rt.run(["run", "--rm", "--rootfs", fx.rootfs, ...args], opts);
const probe = async (args: string[], flags: string[] = []) => {
  const r = await run([...flags, "/probe", ...args]);
  expect(r.code, explain(r)).toBe(0);
  return parseKv(r.stdout);
};

describe("pelagos run --rootfs: isolation seen from inside", () => {
  itIf(skip, "the program is PID 1 with its own hostname", async () => {
    const s = await probe(["status"], ["--hostname", "box1"]);
    expect(s.Pid).toBe("1");
    expect(s.PPid).toBe("0");
    expect((await probe(["hostname"], ["--hostname", "box1"])).hostname).toBe("box1");
  });

  itIf(skip, "every namespace but user differs from the host's", async () => {
    const inside = await probe(["ns"]);
    for (const ns of ["mnt", "pid", "uts", "ipc", "net", "cgroup"]) {
      const host = readlinkSync(`/proc/self/ns/${ns}`).match(/\[(\d+)\]/)![1];
      expect(inside[ns], ns).toBeDefined();
      expect(inside[ns], ns).not.toBe(host);
    }
    expect(inside.user).toBe(readlinkSync("/proc/self/ns/user").match(/\[(\d+)\]/)![1]);
  });

  itIf(skip, "--network host keeps the host's network namespace; loopback brings lo up", async () => {
    const host = readlinkSync("/proc/self/ns/net").match(/\[(\d+)\]/)![1];
    expect((await probe(["ns"], ["--network", "host"])).net).toBe(host);
    const r = await run(["cat", "/sys/class/net/lo/flags"]);
    expect(Number(r.stdout.trim()) & 1, explain(r)).toBe(1); // IFF_UP
    const none = await run(["--network", "none", "ls", "/sys/class/net"]);
    expect(none.stdout.trim()).toBe("lo");
  });

  itIf(skip, "proc, sysfs (read-only), /dev tmpfs, devpts, shm and mqueue are mounted", async () => {
    const r = await run(["/probe", "mountinfo"]);
    expect(r.code, explain(r)).toBe(0);
    const lines = r.stdout.trim().split("\n").map((l) => {
      const [pre, post] = l.split(" - ");
      const f = pre!.split(" ");
      return { target: f[4]!, opts: f[5]!, fstype: post!.split(" ")[0]!, super: post!.split(" ")[2] ?? "" };
    });
    const at = (t: string) => lines.find((l) => l.target === t);
    expect(at("/proc")?.fstype).toBe("proc");
    expect(at("/sys")?.fstype).toBe("sysfs");
    expect(at("/sys")?.opts.split(",")).toContain("ro");
    expect(at("/dev")?.fstype).toBe("tmpfs");
    expect(at("/dev/pts")?.fstype).toBe("devpts");
    expect(at("/dev/shm")?.fstype).toBe("tmpfs");
    expect(at("/dev/mqueue")?.fstype).toBe("mqueue");
    expect(at("/proc/sys")?.opts.split(",")).toContain("ro");
    expect(lines.some((l) => l.target === "/" && l.opts.split(",").includes("rw"))).toBe(true);
  });

  itIf(skip, "/dev has the standard nodes and symlinks, nothing from the host", async () => {
    const r = await run(["sh", "-c", "ls -l /dev; ls /dev | wc -l"]);
    expect(r.code, explain(r)).toBe(0);
    for (const node of ["null", "zero", "full", "random", "urandom", "tty"]) expect(r.stdout).toMatch(new RegExp(`^c.* ${node}$`, "m"));
    expect(r.stdout).toMatch(/fd -> \/proc\/self\/fd/);
    expect(r.stdout).toMatch(/ptmx -> pts\/ptmx/);
    expect(r.stdout).not.toMatch(/ sda| vda| kmsg/);
    const nul = await run(["sh", "-c", "echo x > /dev/null && head -c 4 /dev/zero | wc -c"]);
    expect(nul.stdout.trim()).toBe("4");
  });

  itIf(skip, "only fds 0, 1 and 2 are open; no signal is ignored or blocked", async () => {
    const fds = await probe(["fds"]);
    expect(Object.keys(fds).sort()).toEqual(["0", "1", "2"]);
    const sigs = await probe(["sigs"]);
    expect(sigs.SigIgn).toBe("0000000000000000");
    expect(sigs.SigBlk).toBe("0000000000000000");
  });

  itIf(skip, "docker's capabilities, no_new_privs off, masked paths masked", async () => {
    const s = await probe(["status"]);
    expect(s.CapBnd).toBe("00000000a80425fb");
    expect(s.CapEff).toBe("00000000a80425fb");
    const r = await run(["sh", "-c", "cat /proc/timer_list | wc -c; ls /sys/firmware | wc -l"]);
    expect(r.stdout.trim().split("\n")).toEqual(["0", "0"]);
  });
});

describe("pelagos run --rootfs: options", () => {
  itIf(skip, "-e, --env-file and docker's defaults make the environment", async () => {
    const file = `${fx.scratch}/env`;
    writeFileSync(file, "# comment\nFROM_FILE=1\n\nSHARED=file\n");
    const r = await rt.run(["run", "--rm", "--rootfs", fx.rootfs, "--hostname", "h2", "--env-file", file, "-e", "SHARED=flag", "-e", "COPIED", "/probe", "env"], {
      env: { COPIED: "from-host" },
    });
    const env = parseKv(r.stdout);
    expect(env).toMatchObject({ FROM_FILE: "1", SHARED: "flag", COPIED: "from-host", HOSTNAME: "h2", HOME: "/root" });
    expect(env.PATH).toBe("/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    expect(env.PELAGOS_TEST_RUN).toBeUndefined(); // the caller's environment does not leak in
  });

  itIf(skip, "-w and -u set the working directory and the ids (names resolved in the rootfs)", async () => {
    expect((await probe(["cwd"], ["-w", "/tmp"])).cwd).toBe("/tmp");
    const id = await probe(["id"], ["-u", "1000:1000"]);
    expect([id.uid, id.gid]).toEqual(["1000", "1000"]);
    const named = await probe(["id"], ["-u", "app"]);
    expect(named.uid).toBe("1000");
    const s = await probe(["status"], ["-u", "1000"]);
    expect(s.CapEff).toBe("0000000000000000"); // a non-root user has no effective capabilities
    const bad = await run(["-u", "nosuchuser", "true"]);
    expect(bad.code).toBe(125);
    expect(bad.stderr).toContain('Cannot find user "nosuchuser"');
  });

  itIf(skip, "-v binds a host directory, :ro makes it read-only", async () => {
    writeFileSync(`${fx.scratch}/in.txt`, "from host");
    const r = await run(["-v", `${fx.scratch}:/data`, "sh", "-c", "cat /data/in.txt; echo out > /data/out.txt"]);
    expect(r.stdout, explain(r)).toContain("from host");
    expect(readFileSync(`${fx.scratch}/out.txt`, "utf8")).toBe("out\n");
    const ro = await run(["-v", `${fx.scratch}:/data:ro`, "sh", "-c", "echo x > /data/x"]);
    expect(ro.code).not.toBe(0);
    expect(ro.stderr).toContain("Read-only");
    expect(existsSync(`${fx.scratch}/x`)).toBe(false);
  });

  itIf(skip, "--tmpfs and --read-only", async () => {
    const r = await run(["--read-only", "--tmpfs", "/tmp:size=1m", "sh", "-c", "echo ok > /tmp/f && cat /tmp/f; echo x > /x"]);
    expect(r.stdout).toContain("ok");
    expect(r.stderr).toContain("Read-only");
    expect(r.code).not.toBe(0);
  });

  itIf(skip, "stdin is passed with -i, and is /dev/null without it", async () => {
    const r = await rt.run(["run", "--rm", "-i", "--rootfs", fx.rootfs, "cat"], { stdin: "piped data\n" });
    expect(r.stdout).toBe("piped data\n");
    const n = await rt.run(["run", "--rm", "--rootfs", fx.rootfs, "cat"], { stdin: "ignored\n" });
    expect(n.stdout).toBe("");
  });

  itIf(skip, "--name is unique among containers; without --rm the record stays until rm", async () => {
    const name = uniqueId("pelagos-name");
    const a = await rt.run(["run", "--name", name, "--rootfs", fx.rootfs, "true"]);
    expect(a.code, explain(a)).toBe(0);
    const b = await rt.run(["run", "--name", name, "--rootfs", fx.rootfs, "true"]);
    expect(b.code).toBe(125);
    expect(b.stderr).toContain("already in use");
    const rm = await rt.run(["rm", name]);
    expect(rm.code, explain(rm)).toBe(0);
    const c = await rt.run(["run", "--rm", "--name", name, "--rootfs", fx.rootfs, "true"]);
    expect(c.code, explain(c)).toBe(0);
    for (const bad of ["", "a/b", "..", "-x", "x".repeat(65)]) {
      const r = await rt.run(["run", "--rm", `--name=${bad}`, "--rootfs", fx.rootfs, "true"]);
      expect(r.code, bad).toBe(125);
      expect(r.stderr).toContain("Invalid --name");
    }
  });
});

describe("pelagos run --rootfs: exit status and signals", () => {
  itIf(skip, "docker's exit codes: own status, 125, 126, 127", async () => {
    expect((await run(["/probe", "exit", "42"])).code).toBe(42);
    const nf = await run(["no-such-program"]);
    expect(nf.code).toBe(127);
    expect(nf.stderr).toContain('Cannot execute "no-such-program"');
    const noexec = await run(["/etc/passwd"]);
    expect(noexec.code).toBe(126);
    expect((await rt.run(["run", "--rootfs", "/nonexistent", "true"])).code).toBe(125);
    expect((await rt.run(["run", "--bogus-flag"])).code).toBe(125);
  });

  itIf(skip, "a container killed by a signal exits 128+N", async () => {
    const p = Bun.spawn([PELAGOS_BIN, "--root", rt.root, "run", "--rm", "--rootfs", fx.rootfs, "sleep", "30"], { stdout: "pipe", stderr: "pipe" });
    const init = await waitForChild(p.pid, "sleep");
    process.kill(init, "SIGKILL");
    expect(await p.exited).toBe(137);
  });

  for (const sig of ["SIGTERM", "SIGINT", "SIGHUP", "SIGUSR1"] as const) {
    itIf(skip, `${sig} sent to pelagos reaches the container's process`, async () => {
      const marker = `${fx.scratch}/${sig}`;
      const p = Bun.spawn([PELAGOS_BIN, "--root", rt.root, "run", "--rm", "-v", `${fx.scratch}:/vol`, "--rootfs", fx.rootfs, "/probe", "sleep-trap", sig, `/vol/${sig}`], {
        stdout: "pipe", stderr: "pipe",
      });
      await waitForOutput(p, "ready");
      process.kill(p.pid, sig);
      expect(await p.exited).toBe(0);
      expect(existsSync(marker)).toBe(true);
    });
  }

  itIf(skip, "if pelagos is killed, the container dies with it and nothing stays mounted", async () => {
    const name = uniqueId("pelagos-kill");
    const p = Bun.spawn([PELAGOS_BIN, "--root", rt.root, "run", "--name", name, "--rootfs", fx.rootfs, "sleep", "30"], { stdout: "pipe", stderr: "pipe" });
    const init = await waitForChild(p.pid, "sleep");
    p.kill("SIGKILL");
    await p.exited;
    const deadline = Date.now() + 5000;
    while (existsSync(`/proc/${init}`) && Date.now() < deadline) await Bun.sleep(20);
    expect(existsSync(`/proc/${init}`)).toBe(false);
    expect(readFileSync("/proc/self/mountinfo", "utf8")).not.toContain(fx.rootfs);
    // the stale record does not block the name
    const again = await rt.run(["run", "--rm", "--name", name, "--rootfs", fx.rootfs, "true"]);
    expect(again.code, explain(again)).toBe(0);
  });
});

describe("pelagos run --rootfs: bad input leaves nothing behind", () => {
  itIf(skip, "a failing mount rolls back the container record", async () => {
    const name = uniqueId("pelagos-bad");
    const r = await rt.run(["run", "--name", name, "--rootfs", fx.rootfs, "-v", "/nonexistent-src:/x", "true"]);
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(/^pelagos: error: Invalid --volume/m);
    expect(r.stderr).not.toContain("    at ");
    expect(existsSync(`${rt.root}/containers/${name}`)).toBe(false);
  });
});

/** The pid of `parent`'s descendant whose comm is `comm` (the trampoline's child). */
async function waitForChild(parent: number, comm: string): Promise<number> {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    const found = descendants(parent).find((pid) => {
      try {
        return readFileSync(`/proc/${pid}/comm`, "utf8").trim() === comm;
      } catch {
        return false;
      }
    });
    if (found) return found;
    await Bun.sleep(10);
  }
  throw new Error(`No "${comm}" process under ${parent}`);
}

function descendants(pid: number): number[] {
  let kids: number[] = [];
  try {
    kids = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
  return kids.flatMap((k) => [k, ...descendants(k)]);
}

async function waitForOutput(p: { stdout: ReadableStream<Uint8Array> }, text: string): Promise<void> {
  const reader = p.stdout.getReader();
  let seen = "";
  const deadline = Date.now() + 5000;
  while (!seen.includes(text)) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for "${text}", got "${seen}"`);
    const { value, done } = await reader.read();
    if (done) throw new Error(`Output ended before "${text}": "${seen}"`);
    seen += new TextDecoder().decode(value);
  }
  reader.releaseLock();
}
