/**
 * Process settings of `pelagos run`: --ulimit, --oom-score-adj, --sysctl,
 * --group-add, -u, checked from inside; limits the runtime cannot grant are
 * refused up front with a message saying why.
 */
import { beforeAll, describe, expect } from "bun:test";
import { readFileSync } from "node:fs";
import { busyboxRootfs } from "../helpers/rootfs.ts";
import { explain, useRuntimeRoot } from "../helpers/pelagos.ts";
import { parseKv } from "../helpers/probe.ts";
import { itIf, requires } from "../helpers/requires.ts";

const skip = requires("root", "busybox", "pelagos");
const rt = useRuntimeRoot();
let rootfs = "";
beforeAll(async () => {
  if (!skip) rootfs = await busyboxRootfs();
});

const run = (args: string[]) => rt.run(["run", "--rm", "--rootfs", rootfs, ...args]);
const probe = async (flags: string[], args: string[]) => {
  const r = await run([...flags, "/probe", ...args]);
  expect(r.code, explain(r)).toBe(0);
  return parseKv(r.stdout);
};
const refused = async (flags: string[], message: string) => {
  const r = await run([...flags, "true"]);
  expect(r.code, explain(r)).toBe(125);
  expect(r.stderr).toContain(message);
  expect(r.stderr).not.toContain("    at ");
};
/** CAP_SYS_RESOURCE (24) in this process's effective set */
const hasSysResource = () => (BigInt(`0x${/CapEff:\s*(\w+)/.exec(readFileSync("/proc/self/status", "utf8"))![1]}`) >> 24n) & 1n;
const ownHard = (title: string) => readFileSync("/proc/self/limits", "utf8").split("\n").find((l) => l.startsWith(title))!.slice(26).trim().split(/\s+/)[1]!;

describe("--ulimit", () => {
  itIf(skip, "NAME=SOFT[:HARD] with docker's names; -1 is unlimited", async () => {
    const l = await probe(["--ulimit", "nofile=100:200", "--ulimit", "nproc=500", "--ulimit", "core=-1"], ["rlimits"]);
    expect(l.RLIMIT_NOFILE).toBe("100 200");
    expect(l.RLIMIT_NPROC).toBe("500 500");
    if (ownHard("Max core file size") === "unlimited") expect(l.RLIMIT_CORE).toBe("unlimited unlimited");
  });
  itIf(skip, "bad names and values are clear errors", async () => {
    await refused(["--ulimit", "nofiles=1"], 'unknown limit "nofiles"');
    await refused(["--ulimit", "nofile=10:5"], "soft limit is above the hard limit");
  });
  itIf(skip || (hasSysResource() ? "pelagos holds CAP_SYS_RESOURCE here" : null), "a hard limit above pelagos's own needs CAP_SYS_RESOURCE: refused before starting", async () => {
    const own = Number(ownHard("Max open files"));
    await refused(["--ulimit", `nofile=${own + 1}`], "needs CAP_SYS_RESOURCE");
  });
});

describe("--oom-score-adj", () => {
  itIf(skip, "raising it works; out of range is an error", async () => {
    expect((await probe(["--oom-score-adj", "500"], ["oom-score"])).oom_score_adj).toBe("500");
    await refused(["--oom-score-adj", "1001"], "expected an integer from -1000 to 1000");
  });
  itIf(skip || (hasSysResource() ? "pelagos holds CAP_SYS_RESOURCE here" : null), "lowering it needs CAP_SYS_RESOURCE: a clear error", async () => {
    const own = Number(readFileSync("/proc/self/oom_score_adj", "utf8"));
    await refused(["--oom-score-adj", String(Math.max(-1000, own - 100))], "needs CAP_SYS_RESOURCE");
  });
});

describe("--sysctl", () => {
  itIf(skip, "namespaced sysctls are set in the container's namespaces (also with /proc/sys read-only)", async () => {
    const hostForward = readFileSync("/proc/sys/net/ipv4/ip_forward", "utf8");
    const r = await run(["--sysctl", "net.ipv4.ip_forward=1", "--sysctl", "kernel.shmmni=1234", "sh", "-c",
      "cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmni; grep ' /proc/sys ' /proc/mounts"]);
    expect(r.code, explain(r)).toBe(0);
    expect(r.stdout).toStartWith("1\n1234\n");
    expect(r.stdout).toContain(" ro,");
    expect(readFileSync("/proc/sys/net/ipv4/ip_forward", "utf8")).toBe(hostForward);
  });
  itIf(skip, "host-wide sysctls, and network ones with --network host, are refused", async () => {
    await refused(["--sysctl", "vm.swappiness=1"], "is not namespaced");
    await refused(["--sysctl", "kernel.panic=1"], "is not namespaced");
    await refused(["--network", "host", "--sysctl", "net.ipv4.ip_forward=1"], "--network host");
  });
});

describe("users and groups", () => {
  itIf(skip, "--group-add takes names from the container's /etc/group, or numbers", async () => {
    const id = await probe(["-u", "1000:1000", "--group-add", "tty", "--group-add", "4242"], ["id"]);
    expect(id.groups!.split(",").sort()).toEqual(["100", "4242", "5"].sort());
    await refused(["--group-add", "nosuchgroup"], 'Cannot find group "nosuchgroup"');
  });
  itIf(skip, "-u name:group resolves both in the container; HOME comes from its /etc/passwd", async () => {
    const id = await probe(["-u", "app:users"], ["id"]);
    expect([id.uid, id.gid]).toEqual(["1000", "100"]);
    expect((await probe(["-u", "app"], ["env"])).HOME).toBe("/home/app");
    await refused(["-u", "app:nosuchgroup"], 'Cannot find group "nosuchgroup"');
  });
});
