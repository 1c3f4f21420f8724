import { describe, expect, test } from "bun:test";
import { checkOomScoreAdj, checkRaisable, hardLimits, parseOomScoreAdj, parseUlimits } from "./ulimit.ts";
import { parseSysctls, sysctlNamespace } from "./sysctl.ts";

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max processes             127563               127563               processes
Max open files            1024                 524288               files
`;

describe("--ulimit, --oom-score-adj, --sysctl", () => {
  test("docker's names; SOFT[:HARD]; -1 is unlimited; the last flag wins", () => {
    expect(parseUlimits(["nofile=1024:2048", "core=-1", "nproc=10", "nofile=5"])).toEqual([
      { type: "RLIMIT_NOFILE", soft: 5, hard: 5 },
      { type: "RLIMIT_CORE", soft: -1, hard: -1 },
      { type: "RLIMIT_NPROC", soft: 10, hard: 10 },
    ]);
    expect(() => parseUlimits(["nofiles=1"])).toThrow('unknown limit "nofiles"');
    expect(() => parseUlimits(["nofile=10:5"])).toThrow("soft limit is above the hard limit");
    expect(() => parseUlimits(["nofile=x"])).toThrow("not a number");
  });
  test("raising a hard limit above the runtime's own needs CAP_SYS_RESOURCE", () => {
    const own = hardLimits(LIMITS);
    expect(own).toMatchObject({ RLIMIT_NOFILE: 524288, RLIMIT_CPU: -1, RLIMIT_NPROC: 127563 });
    expect(() => checkRaisable(parseUlimits(["nofile=1048576"]), own, false)).toThrow("CAP_SYS_RESOURCE");
    expect(() => checkRaisable(parseUlimits(["nofile=-1"]), own, false)).toThrow("unlimited");
    expect(() => checkRaisable(parseUlimits(["nofile=1048576"]), own, true)).not.toThrow();
    expect(() => checkRaisable(parseUlimits(["nofile=100:200", "cpu=-1"]), own, false)).not.toThrow();
  });
  test("--oom-score-adj range, and lowering needs CAP_SYS_RESOURCE", () => {
    expect(parseOomScoreAdj("-1000")).toBe(-1000);
    expect(() => parseOomScoreAdj("1001")).toThrow("-1000 to 1000");
    expect(() => parseOomScoreAdj("1.5")).toThrow("-1000 to 1000");
    expect(() => checkOomScoreAdj(-10, 0, false)).toThrow("CAP_SYS_RESOURCE");
    expect(() => checkOomScoreAdj(500, 0, false)).not.toThrow();
    expect(() => checkOomScoreAdj(-10, 0, true)).not.toThrow();
  });
  test("only namespaced sysctls", () => {
    expect(sysctlNamespace("net.ipv4.ip_forward")).toBe("network");
    expect(sysctlNamespace("kernel.shmmax")).toBe("ipc");
    expect(sysctlNamespace("fs.mqueue.msg_max")).toBe("ipc");
    expect(sysctlNamespace("kernel.domainname")).toBe("uts");
    expect(sysctlNamespace("vm.swappiness")).toBeUndefined();
    expect(parseSysctls(["net/ipv4/ip_forward=1"])).toEqual({ "net.ipv4.ip_forward": "1" });
    expect(() => parseSysctls(["vm.swappiness=1"])).toThrow("not namespaced");
    expect(() => parseSysctls(["kernel.shmmax"])).toThrow("KEY=VALUE");
  });
});
