/**
 * config.json knobs, each checked from inside the container through /probe:
 * rlimits, umask, groups, sysctl, oom_score_adj, domainname, devices,
 * read-only root, namespaces joined by path, preserved fds, kill --all.
 */
import { describe, expect } from "bun:test";
import { readFileSync, readlinkSync } from "node:fs";
import { makeBundle, type BundleOptions } from "../helpers/rootfs.ts";
import { explain, PELAGOS_BIN, useRuntimeRoot, uniqueId } from "../helpers/pelagos.ts";
import { parseKv } from "../helpers/probe.ts";
import { itIf, requires } from "../helpers/requires.ts";

const skip = requires("root", "busybox", "pelagos");
const rt = useRuntimeRoot();

async function runProbe(opts: BundleOptions): Promise<string> {
  const b = await makeBundle(opts);
  try {
    const r = await rt.run(["run", "--bundle", b.dir, uniqueId()]);
    expect(r.code, explain(r)).toBe(0);
    return r.stdout;
  } finally {
    b.cleanup();
  }
}

describe("config.json knobs seen from inside", () => {
  itIf(skip, "rlimits, umask, uid/gid and additional groups", async () => {
    const out = await runProbe({
      args: ["sh", "-c", "/probe rlimits; /probe umask; /probe id"],
      process: { rlimits: [{ type: "RLIMIT_NOFILE", soft: 123, hard: 456 }, { type: "RLIMIT_CORE", soft: 0, hard: 0 }] },
      user: { uid: 1000, gid: 1000, umask: 0o027, additionalGids: [100, 5] },
    });
    const kv = parseKv(out);
    expect(kv.RLIMIT_NOFILE).toBe("123 456");
    expect(kv.Umask).toBe("0027");
    expect([kv.uid, kv.gid]).toEqual(["1000", "1000"]);
    expect(kv.groups?.split(",").sort()).toEqual(["100", "5"]);
  });

  itIf(skip, "sysctl, oom_score_adj and domainname", async () => {
    const out = await runProbe({
      args: ["sh", "-c", "cat /proc/sys/net/ipv4/ip_forward /proc/self/oom_score_adj /proc/sys/kernel/domainname"],
      linux: { sysctl: { "net.ipv4.ip_forward": "1" } },
      process: { oomScoreAdj: 500 },
      edit: (c) => void ((c as { domainname?: string }).domainname = "example.test"),
    });
    expect(out.trim().split("\n")).toEqual(["1", "500", "example.test"]);
    // the host's value is untouched
    expect(readFileSync("/proc/self/oom_score_adj", "utf8").trim()).not.toBe("500");
  });

  itIf(skip, "devices from the config are created with their numbers, mode and owner", async () => {
    const out = await runProbe({
      args: ["/probe", "stat", "/dev/mynull"],
      linux: { devices: [{ type: "c", path: "/dev/mynull", major: 1, minor: 3, fileMode: 0o620, uid: 1000, gid: 5 }] },
    });
    const kv = parseKv(out);
    expect(kv).toMatchObject({ type: "char", mode: "0620", uid: "1000", gid: "5", rdev: "1:3" });
  });

  itIf(skip, "root.readonly makes / read-only while /dev and /proc stay writable", async () => {
    const out = await runProbe({ args: ["sh", "-c", "touch /x 2>&1; echo ok > /dev/shm/y && cat /dev/shm/y"], readonly: true });
    expect(out).toContain("Read-only file system");
    expect(out).toContain("ok");
  });
});

describe("namespaces, fds and signals", () => {
  itIf(skip, "a namespace given by path is joined", async () => {
    const a = await makeBundle({ args: ["sleep", "30"] });
    const idA = uniqueId();
    try {
      expect((await rt.run(["create", "--bundle", a.dir, idA])).code).toBe(0);
      const pidA = JSON.parse((await rt.run(["state", idA])).stdout).pid as number;
      const netA = readlinkSync(`/proc/${pidA}/ns/net`).match(/\[(\d+)\]/)![1];
      const utsA = readlinkSync(`/proc/${pidA}/ns/uts`).match(/\[(\d+)\]/)![1];
      const out = await runProbe({
        args: ["/probe", "ns"],
        hostname: null,
        namespaces: ["pid", "ipc", "mount", { type: "network", path: `/proc/${pidA}/ns/net` }, { type: "uts", path: `/proc/${pidA}/ns/uts` }],
      });
      const ns = parseKv(out);
      expect(ns.net).toBe(netA);
      expect(ns.uts).toBe(utsA);
      expect(ns.pid).not.toBe(readlinkSync(`/proc/${pidA}/ns/pid`).match(/\[(\d+)\]/)![1]);
    } finally {
      await rt.run(["delete", "--force", idA]);
      a.cleanup();
    }
  });

  itIf(skip, "--preserve-fds passes fds 3.. and nothing else", async () => {
    const b = await makeBundle({ args: ["/probe", "fds"] });
    try {
      // pelagos starts with fds 3 and 4 open; only fd 3 may reach the container
      const r = Bun.spawnSync(["sh", "-c", `exec 3</etc/hostname 4</etc/hostname; exec "$0" --root "$1" run --preserve-fds 1 --bundle "$2" "$3"`, PELAGOS_BIN, rt.root, b.dir, uniqueId()], { stdout: "pipe", stderr: "pipe" });
      const fds = parseKv(r.stdout.toString());
      expect(Object.keys(fds).sort(), r.stderr.toString()).toEqual(["0", "1", "2", "3"]);
      expect(fds["3"]).toBe("/etc/hostname");
    } finally {
      b.cleanup();
    }
  });

  itIf(skip, "kill --all reaches every process of the container", async () => {
    const b = await makeBundle({ args: ["sh", "-c", "sleep 60 & sleep 60 & wait"] });
    const id = uniqueId();
    try {
      expect((await rt.run(["run", "--detach", "--bundle", b.dir, id])).code).toBe(0);
      const pid = JSON.parse((await rt.run(["state", id])).stdout).pid as number;
      await Bun.sleep(200);
      const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean);
      expect(kids.length).toBe(2);
      expect((await rt.run(["kill", "--all", id, "TERM"])).code).toBe(0);
      const deadline = Date.now() + 5000;
      while (Date.now() < deadline && kids.some((k) => { try { return !readFileSync(`/proc/${k}/stat`, "utf8").includes(") Z"); } catch { return false; } })) await Bun.sleep(20);
      for (const k of kids) {
        let alive = false;
        try { alive = !readFileSync(`/proc/${k}/stat`, "utf8").includes(") Z"); } catch { /* gone */ }
        expect(alive, `child ${k}`).toBe(false);
      }
    } finally {
      await rt.run(["delete", "--force", id]);
      b.cleanup();
    }
  });
});
