/**
 * The runc-compatible verbs, driven as containerd or podman would: create,
 * start, state, kill, delete, list, run, hooks, console socket, --log.
 */
import { describe, expect } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from "node:fs";
import { makeBundle, type BundleOptions } from "../helpers/rootfs.ts";
import { explain, useRuntimeRoot, uniqueId } from "../helpers/pelagos.ts";
import { itIf, requires } from "../helpers/requires.ts";

const skip = requires("root", "busybox", "pelagos");
const rt = useRuntimeRoot();

async function withBundle(opts: BundleOptions, fn: (dir: string) => Promise<void>): Promise<void> {
  const b = await makeBundle(opts);
  try {
    await fn(b.dir);
  } finally {
    b.cleanup();
  }
}

const stateOf = async (id: string) => {
  const r = await rt.run(["state", id]);
  return r.code === 0 ? (JSON.parse(r.stdout) as { status: string; pid: number; id: string; bundle: string }) : undefined;
};

describe("OCI lifecycle", () => {
  itIf(skip, "create → created (init waiting), start → running, kill → stopped, delete → gone", async () => {
    await withBundle({ args: ["sh", "-c", "echo started; exec sleep 30"] }, async (dir) => {
      const id = uniqueId();
      const pidFile = `${dir}/pid`;
      const c = await rt.run(["create", "--bundle", dir, "--pid-file", pidFile, id]);
      expect(c.code, explain(c)).toBe(0);
      const s1 = await stateOf(id);
      expect(s1).toMatchObject({ id, status: "created", bundle: dir });
      expect(Number(readFileSync(pidFile, "utf8"))).toBe(s1!.pid);
      expect(existsSync(`/proc/${s1!.pid}`)).toBe(true);
      // the init waits before the user program: it is not running "sleep" yet
      expect(readFileSync(`/proc/${s1!.pid}/comm`, "utf8").trim()).not.toBe("sleep");
      const st = await rt.run(["start", id]);
      expect(st.code, explain(st)).toBe(0);
      await waitFor(() => readFileSync(`/proc/${s1!.pid}/comm`, "utf8").trim() === "sleep");
      expect(readFileSync(c.stdoutPath, "utf8")).toContain("started");
      expect((await stateOf(id))?.status).toBe("running");
      expect((await rt.run(["start", id])).code).toBe(1);
      const del = await rt.run(["delete", id]);
      expect(del.code).toBe(1);
      expect(del.stderr).toContain("running");
      const k = await rt.run(["kill", id, "KILL"]);
      expect(k.code, explain(k)).toBe(0);
      await waitFor(async () => (await stateOf(id))?.status === "stopped");
      const d = await rt.run(["delete", id]);
      expect(d.code, explain(d)).toBe(0);
      expect(await stateOf(id)).toBeUndefined();
      expect(existsSync(`${rt.root}/${id}`)).toBe(false);
    });
  });

  itIf(skip, "kill takes names with or without SIG and numbers; bad signals are errors", async () => {
    await withBundle({ args: ["/probe", "sleep-trap", "SIGUSR1", "/tmp/x"], writable: true }, async (dir) => {
      const id = uniqueId();
      expect((await rt.run(["create", "--bundle", dir, id])).code).toBe(0);
      expect((await rt.run(["start", id])).code).toBe(0);
      expect((await rt.run(["kill", id, "NOPE"])).code).toBe(1);
      expect((await rt.run(["kill", id, "99"])).code).toBe(1);
      await Bun.sleep(100);
      expect((await rt.run(["kill", id, "usr1"])).code).toBe(0);
      await waitFor(async () => (await stateOf(id))?.status === "stopped");
      expect(existsSync(`${dir}/rootfs/tmp/x`)).toBe(true);
      expect((await rt.run(["kill", id, "9"])).code).toBe(1); // stopped
      expect((await rt.run(["delete", id])).code).toBe(0);
    });
  });

  itIf(skip, "delete --force kills a running container; a created one needs no --force", async () => {
    await withBundle({ args: ["sleep", "30"] }, async (dir) => {
      const a = uniqueId(), b = uniqueId();
      expect((await rt.run(["create", "--bundle", dir, a])).code).toBe(0);
      const pa = (await stateOf(a))!.pid;
      expect((await rt.run(["delete", a])).code).toBe(0);
      expect(existsSync(`/proc/${pa}/stat`) && !readFileSync(`/proc/${pa}/stat`, "utf8").includes(") Z")).toBe(false);
      expect((await rt.run(["run", "--detach", "--bundle", dir, b])).code).toBe(0);
      expect((await stateOf(b))?.status).toBe("running");
      const d = await rt.run(["delete", "--force", b]);
      expect(d.code, explain(d)).toBe(0);
      expect(await stateOf(b)).toBeUndefined();
    });
  });

  itIf(skip, "ids are unique and validated; list shows every container", async () => {
    await withBundle({ args: ["sleep", "30"] }, async (dir) => {
      const id = uniqueId();
      expect((await rt.run(["create", "--bundle", dir, id])).code).toBe(0);
      const again = await rt.run(["create", "--bundle", dir, id]);
      expect(again.code).toBe(1);
      expect(again.stderr).toContain("already exists");
      const l = await rt.run(["list", "--format", "json"]);
      expect(JSON.parse(l.stdout).map((x: { id: string }) => x.id)).toContain(id);
      for (const bad of ["../x", "a/b", "containers", ""]) expect((await rt.run(["create", "--bundle", dir, bad])).code).toBe(1);
      expect((await rt.run(["delete", "--force", id])).code).toBe(0);
    });
  });

  itIf(skip, "a bundle started again reuses its cached plan and config; a changed config is planned anew; damaged entries are ignored", async () => {
    const b = await makeBundle({ args: ["hostname"], hostname: "first" });
    const plans = `${rt.root}/.plans`;
    const entries = () => (existsSync(plans) ? readdirSync(plans).filter((n) => !n.startsWith(".")) : []);
    const counts = () => ({ plans: entries().filter((n) => !n.startsWith("config-")).length, configs: entries().filter((n) => n.startsWith("config-")).length });
    try {
      rmSync(plans, { recursive: true, force: true });
      const inodes = () => Object.fromEntries(entries().map((n) => [n, statSync(`${plans}/${n}`).ino]));
      let written: Record<string, number> = {};
      for (let i = 0; i < 2; i++) {
        const r = await rt.run(["run", "--bundle", b.dir, uniqueId()]);
        expect(r.code, explain(r)).toBe(0);
        expect(r.stdout.trim()).toBe("first");
        if (i === 0) written = inodes();
      }
      // two containers, one request: one plan, one validated config
      expect(counts()).toEqual({ plans: 1, configs: 1 });
      // read, not planned and stored again: a miss replaces an entry by rename (a new inode)
      expect(inodes()).toEqual(written);
      b.config.hostname = "second";
      b.save();
      const r2 = await rt.run(["run", "--bundle", b.dir, uniqueId()]);
      expect(r2.stdout.trim(), explain(r2)).toBe("second");
      expect(counts()).toEqual({ plans: 2, configs: 2 });
      for (const n of entries()) writeFileSync(`${plans}/${n}`, "damaged");
      const r3 = await rt.run(["run", "--bundle", b.dir, uniqueId()]);
      expect(r3.stdout.trim(), explain(r3)).toBe("second");
      // an invalid config is never cached as valid
      b.config.hostname = 7 as never;
      b.save();
      for (let i = 0; i < 2; i++) {
        const bad = await rt.run(["run", "--bundle", b.dir, uniqueId()]);
        expect(bad.code).toBe(1);
        expect(bad.stderr).toContain("hostname");
      }
      // off: nothing read or written
      rmSync(plans, { recursive: true, force: true });
      b.config.hostname = "third";
      b.save();
      const r4 = await rt.run(["run", "--bundle", b.dir, uniqueId()], { env: { PELAGOS_PLAN_CACHE: "0" } });
      expect(r4.stdout.trim(), explain(r4)).toBe("third");
      expect(entries()).toEqual([]);
    } finally {
      b.cleanup();
    }
  });

  itIf(skip, "create holds nothing of the container in its plan: two containers of one bundle share one cached plan", async () => {
    await withBundle({ args: ["sh", "-c", "echo ran"] }, async (dir) => {
      const plans = `${rt.root}/.plans`;
      rmSync(plans, { recursive: true, force: true });
      for (const id of [uniqueId(), uniqueId()]) {
        const c = await rt.run(["create", "--bundle", dir, id]);
        expect(c.code, explain(c)).toBe(0);
        expect((await rt.run(["start", id])).code).toBe(0);
        await waitFor(async () => (await stateOf(id))?.status === "stopped");
        expect(readFileSync(c.stdoutPath, "utf8")).toContain("ran");
        expect((await rt.run(["delete", id])).code).toBe(0);
      }
      expect(readdirSync(plans).filter((n) => !n.startsWith(".") && !n.startsWith("config-")).length).toBe(1);
    });
  });

  itIf(skip, "run --bundle is foreground: output, exit status, state removed", async () => {
    await withBundle({ args: ["sh", "-c", "echo hi; exit 7"] }, async (dir) => {
      const id = uniqueId();
      const r = await rt.run(["run", "--bundle", dir, id]);
      expect(r.code, explain(r)).toBe(7);
      expect(r.stdout).toContain("hi");
      expect(existsSync(`${rt.root}/${id}`)).toBe(false);
    });
  });
});

describe("OCI config", () => {
  itIf(skip, "an invalid config.json is rejected with its JSON path and leaves nothing", async () => {
    await withBundle({ writable: true, edit: (c) => void (c.mounts[1]!.destination = "dev") }, async (dir) => {
      const id = uniqueId();
      const r = await rt.run(["create", "--bundle", dir, id]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("mounts[1].destination");
      expect(existsSync(`${rt.root}/${id}`)).toBe(false);
    });
  });

  itIf(skip, "a failing step is one clear error naming it, and rolls back", async () => {
    await withBundle({ extraMounts: [{ destination: "/mnt", type: "bind", source: "/nonexistent-dir", options: ["rbind"] }] }, async (dir) => {
      const id = uniqueId();
      const r = await rt.run(["run", "--bundle", dir, id]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("/nonexistent-dir");
      expect(existsSync(`${rt.root}/${id}`)).toBe(false);
    });
    await withBundle({ process: { cwd: "/etc/passwd" } as never }, async (dir) => {
      const r = await rt.run(["run", "--bundle", dir, uniqueId()]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/Cannot (create|change to) the working directory \/etc\/passwd: ENOTDIR|EEXIST/);
    });
  });

  itIf(skip, "every hook kind runs, in its namespace, with the state on stdin", async () => {
    const out = mkdtempSync("/tmp/pelagos-hooks-");
    try {
      const hook = (kind: string) => ({ path: "/bin/sh", args: ["sh", "-c", `cat > ${out}/${kind}.json; readlink /proc/self/ns/mnt > ${out}/${kind}.mnt`] });
      await withBundle(
        {
          args: ["true"],
          extraMounts: [{ destination: "/mnt", type: "bind", source: out, options: ["rbind"] }],
          hooks: {
            prestart: [hook("prestart")], createRuntime: [hook("createRuntime")], createContainer: [hook("createContainer")],
            startContainer: [{ path: "/bin/sh", args: ["sh", "-c", "cat > /mnt/startContainer.json; readlink /proc/self/ns/mnt > /mnt/startContainer.mnt"] }],
            poststart: [hook("poststart")], poststop: [hook("poststop")],
          },
        },
        async (dir) => {
          const id = uniqueId();
          const r = await rt.run(["run", "--bundle", dir, id]);
          expect(r.code, explain(r)).toBe(0);
        },
      );
      const hostMnt = readlinkSync("/proc/self/ns/mnt");
      for (const k of ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"]) {
        const st = JSON.parse(readFileSync(`${out}/${k}.json`, "utf8"));
        expect(st.ociVersion, k).toBeDefined();
        const inContainer = readFileSync(`${out}/${k}.mnt`, "utf8").trim() !== hostMnt;
        expect(inContainer, k).toBe(k === "createContainer" || k === "startContainer");
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  itIf(skip, "a failing createRuntime hook stops the container", async () => {
    await withBundle({ args: ["true"], hooks: { createRuntime: [{ path: "/bin/false" }] } }, async (dir) => {
      const id = uniqueId();
      const r = await rt.run(["run", "--bundle", dir, id]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("createRuntime hook 0");
      expect(existsSync(`${rt.root}/${id}`)).toBe(false);
    });
  });

  itIf(skip, "user namespace mappings make container root an unprivileged host uid", async () => {
    await withBundle(
      {
        args: ["sh", "-c", "cat /proc/self/uid_map; id -u"],
        namespaces: ["pid", "ipc", "uts", "mount", "network", "user"],
        linux: { uidMappings: [{ containerID: 0, hostID: 200000, size: 65536 }], gidMappings: [{ containerID: 0, hostID: 200000, size: 65536 }] },
      },
      async (dir) => {
        const r = await rt.run(["run", "--bundle", dir, uniqueId()]);
        expect(r.code, explain(r)).toBe(0);
        expect(r.stdout).toMatch(/^\s*0\s+200000\s+65536$/m);
        expect(r.stdout.trim().split("\n").pop()).toBe("0");
      },
    );
  });

  itIf(skip, "--log with --log-format json writes runc's JSON error lines", async () => {
    const log = `${rt.root}-log.json`;
    const r = await rt.run(["--log", log, "--log-format", "json", "state", "no-such-container"]);
    expect(r.code).toBe(1);
    const line = JSON.parse(readFileSync(log, "utf8").trim().split("\n").pop()!);
    expect(line).toMatchObject({ level: "error" });
    expect(line.msg).toContain("no-such-container");
    expect(typeof line.time).toBe("string");
    rmSync(log, { force: true });
  });
});

describe("OCI console socket", () => {
  itIf(skip, "a terminal container sends its pty master to --console-socket", async () => {
    const dir = mkdtempSync("/tmp/pelagos-console-");
    const sock = `${dir}/console.sock`;
    // a tiny receiver: accepts, takes the fd with SCM_RIGHTS, reads what the container writes
    const py = Bun.spawn(["python3", "-c", `
import socket, os, sys, array
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(1); print("listening", flush=True)
c, _ = s.accept()
msg, fds, _, _ = socket.recv_fds(c, 16, 1)
fd = fds[0]
buf = b""
while b"console-ok" not in buf:
    try: d = os.read(fd, 1024)
    except OSError: break
    if not d: break
    buf += d
print("isatty", os.isatty(fd), buf.decode(errors="replace"), flush=True)
`, sock], { stdout: "pipe", stderr: "inherit" });
    try {
      const reader = py.stdout.getReader();
      await reader.read(); // "listening"
      await withBundle({ args: ["sh", "-c", "tty; echo console-ok"], terminal: true }, async (bdir) => {
        const id = uniqueId();
        const c = await rt.run(["create", "--bundle", bdir, "--console-socket", sock, id]);
        expect(c.code, explain(c)).toBe(0);
        expect((await rt.run(["start", id])).code).toBe(0);
        let out = "";
        while (!out.includes("console-ok")) {
          const { value, done } = await reader.read();
          if (done) break;
          out += new TextDecoder().decode(value);
        }
        expect(out).toContain("isatty True");
        expect(out).toContain("/dev/pts/0");
        await waitFor(async () => (await stateOf(id))?.status === "stopped");
        expect((await rt.run(["delete", id])).code).toBe(0);
      });
    } finally {
      py.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

async function waitFor(cond: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      if (await cond()) return;
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline) throw new Error("Timed out waiting for a condition");
    await Bun.sleep(20);
  }
}

void writeFileSync;
