/**
 * User namespaces for root-run containers: container root is not host root,
 * and the root filesystem is shown through an idmapped mount so its files
 * keep their owners inside. `--userns auto` takes a free range from
 * /etc/subuid (tests give it one in a private mount namespace with a copy
 * of /etc).
 */
import { describe, expect } from "bun:test";
import { appendFileSync, chmodSync, existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { makeBundle, useRootfsAndScratch } from "../helpers/rootfs.ts";
import { explain, PELAGOS_BIN, runCli, useRuntimeRoot } from "../helpers/pelagos.ts";
import { parseKv } from "../helpers/probe.ts";
import { itIf, requires } from "../helpers/requires.ts";

const skip = requires("root", "busybox", "pelagos", "userns");
const rt = useRuntimeRoot();
const fx = useRootfsAndScratch(skip, "pelagos-userns-");

const MAP = "0:200000:65536";
const run = (args: string[], root = fx.rootfs) => rt.run(["run", "--rm", "--rootfs", root, ...args]);
const mapLine = (text: string) => text.trim().split(/\s+/).map(Number);

describe("--uidmap / --gidmap", () => {
  itIf(skip, "container root is host uid 200000; the maps are podman's syntax", async () => {
    const r = await run(["--uidmap", MAP, "sh", "-c", "cat /proc/self/uid_map /proc/self/gid_map; /probe id"]);
    expect(r.code, explain(r)).toBe(0);
    const [uid, gid] = r.stdout.trim().split("\n");
    expect(mapLine(uid!)).toEqual([0, 200000, 65536]);
    expect(mapLine(gid!)).toEqual([0, 200000, 65536]);
    expect(parseKv(r.stdout)).toMatchObject({ uid: "0", gid: "0" });
    const g = await run(["--uidmap", MAP, "--gidmap", "0:300000:65536", "cat", "/proc/self/gid_map"]);
    expect(mapLine(g.stdout)).toEqual([0, 300000, 65536]);
  });

  itIf(skip, "the root filesystem keeps its owners inside (idmapped mount), users resolve as usual", async () => {
    const stat = async (path: string) => {
      const r = await run(["--uidmap", MAP, "/probe", "stat", path]);
      expect(r.code, explain(r)).toBe(0);
      return parseKv(r.stdout);
    };
    const [bin, home] = [await stat("/bin/busybox"), await stat("/home/app")];
    expect([bin!.uid, bin!.gid]).toEqual(["0", "0"]);
    expect([home!.uid, home!.gid]).toEqual(["1000", "1000"]);
    const id = parseKv((await run(["--uidmap", MAP, "-u", "app", "/probe", "id"])).stdout);
    expect([id.uid, id.gid]).toEqual(["1000", "1000"]);
  });

  itIf(skip, "container root writes the rootfs as its owner, but cannot touch a host root file through a volume", async () => {
    const b = await makeBundle({ writable: true });
    try {
      writeFileSync(`${fx.scratch}/host-owned`, "host\n");
      chmodSync(`${fx.scratch}/host-owned`, 0o644);
      chmodSync(fx.scratch, 0o755);
      const r = await run(["--uidmap", MAP, "-v", `${fx.scratch}:/data`, "sh", "-c",
        "echo x > /tmp/made && /probe stat /tmp/made | grep '^uid'; echo pwn > /data/host-owned; echo pwn > /data/new"], b.rootfs);
      expect(r.stdout, explain(r)).toContain("uid=0");
      expect(statSync(`${b.rootfs}/tmp/made`).uid).toBe(0);
      expect(readFileSync(`${fx.scratch}/host-owned`, "utf8")).toBe("host\n");
      expect(existsSync(`${fx.scratch}/new`)).toBe(false);
      expect(r.stderr).toMatch(/Permission denied/);
    } finally {
      b.cleanup();
    }
  });

  itIf(skip, "capabilities inside are the namespace's: mount still denied by seccomp, unshare of a user ns too", async () => {
    const s = parseKv((await run(["--uidmap", MAP, "/probe", "status"])).stdout);
    expect([s.CapEff, s.Seccomp]).toEqual(["00000000a80425fb", "2"]);
    expect((await run(["--uidmap", MAP, "/probe", "syscall", "unshare"])).stdout.trim()).toBe("errno=EPERM");
  });

  itIf(skip, "with --network host (sysfs needs a network namespace of its own) the host's /sys is shown read-only", async () => {
    const r = await run(["--uidmap", MAP, "--network", "host", "sh", "-c", "grep -c ' /sys sysfs ro,' /proc/mounts; ls /sys/firmware | wc -l; echo x > /sys/kernel/uevent_helper"]);
    expect(r.stdout.trim().split("\n"), explain(r)).toEqual(["1", "0"]);
    expect(r.stderr).toMatch(/Read-only|Permission denied/);
  });

  itIf(skip, "bad maps and unmapped users are clear errors", async () => {
    for (const [flags, msg] of [
      [["--uidmap", "0:200000"], "CONTAINER_ID:HOST_ID:SIZE"],
      [["--uidmap", "0:200000:10", "--uidmap", "5:300000:10"], "overlap"],
      [["--uidmap", "0:200000:10", "-u", "app"], "uid 1000 is not mapped"],
      [["--userns", "bogus"], 'Invalid --userns "bogus"'],
    ] as [string[], string][]) {
      const r = await run([...flags, "true"]);
      expect(r.code, flags.join(" ")).toBe(125);
      expect(r.stderr).toContain(msg);
    }
  });
});

describe("--userns auto", () => {
  itIf(skip, "without an /etc/subuid entry: a clear error saying what to add", async () => {
    if (existsSync("/etc/subuid") && /^(pelagos|root):/m.test(readFileSync("/etc/subuid", "utf8"))) return;
    const r = await run(["--userns", "auto", "true"]);
    expect(r.code).toBe(125);
    expect(r.stderr).toContain('has no range for "pelagos" or "root"');
    expect(r.stderr).toContain("pelagos:100000:655360");
  });

  /** Runs `script` in a private mount namespace whose /etc has pelagos:400000:131072 in subuid and subgid. */
  const withSubids = async (script: string) => {
    const etc = `${fx.scratch}/etc`;
    if (!existsSync(etc)) {
      expect(Bun.spawnSync(["cp", "-a", "/etc", etc]).exitCode).toBe(0);
      appendFileSync(`${etc}/subuid`, "pelagos:400000:131072\n");
      appendFileSync(`${etc}/subgid`, "pelagos:400000:131072\n");
    }
    return runCli("unshare", ["-m", "--propagation", "private", "sh", "-ec", `mount --bind ${etc} /etc\n${script}`]);
  };
  const pel = () => `${PELAGOS_BIN} --root ${rt.root} run --rm --userns auto --rootfs ${fx.rootfs}`;

  itIf(skip, "takes a free range from /etc/subuid; a second container gets another one", async () => {
    const out = `${fx.scratch}/first`;
    const r = await withSubids([
      `${pel()} sh -c 'cat /proc/self/uid_map; exec sleep 1' > ${out} &`,
      `while ! [ -s ${out} ]; do sleep 0.05; done`,
      `${pel()} cat /proc/self/uid_map /proc/self/gid_map`,
      "wait",
      `cat ${out}`,
    ].join("\n"));
    expect(r.code, explain(r)).toBe(0);
    const lines = r.stdout.trim().split("\n").map(mapLine);
    expect(lines).toHaveLength(3);
    const [second, secondGid, first] = lines as [number[], number[], number[]];
    expect(first).toEqual([0, 400000, 65536]);
    expect(second).toEqual([0, 465536, 65536]);
    expect(secondGid).toEqual([0, 465536, 65536]);
  }, 30_000);

  itIf(skip, "containers started at the same instant get different ranges (a host-wide lock), until the ids run out", async () => {
    const r = await withSubids([
      ...[1, 2, 3].map((i) => `${pel()} --userns auto:size=1000 sh -c 'cat /proc/self/uid_map; exec sleep 1' > ${fx.scratch}/c${i} 2>&1 &`),
      "wait",
      ...[1, 2, 3].map((i) => `cat ${fx.scratch}/c${i}`),
    ].join("\n"));
    expect(r.code, explain(r)).toBe(0);
    const starts = r.stdout.trim().split("\n").map((l) => mapLine(l)[1]);
    expect(new Set(starts).size, r.stdout).toBe(3);
    for (const s of starts) expect([400000, 401000, 402000]).toContain(s!);
    const full = await withSubids(`${pel()} --userns auto:size=200000 true`);
    expect(full.code).toBe(125);
    expect(full.stderr).toContain("no free range of 200000 ids");
  }, 30_000);
});
