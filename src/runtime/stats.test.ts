import { describe, expect, test } from "bun:test";
import { formatTable, humanBytes, parseNetDev, statsRow } from "./stats.ts";

describe("stats", () => {
  test("parseNetDev sums every interface but lo", () => {
    const text = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:     100       1    0    0    0     0          0         0      100       1    0    0    0     0       0          0
  eth0:    2000      10    0    0    0     0          0         0      300       3    0    0    0     0       0          0
  eth1:      50       1    0    0    0     0          0         0        7       1    0    0    0     0       0          0
`;
    expect(parseNetDev(text)).toEqual({ rx: 2050, tx: 307 });
  });
  test("humanBytes: binary for memory, decimal for I/O, like docker", () => {
    expect(humanBytes(0, true)).toBe("0B");
    expect(humanBytes(64 << 20, true)).toBe("64MiB");
    expect(humanBytes(1536, true)).toBe("1.5KiB");
    expect(humanBytes(1_200_000, false)).toBe("1.2MB");
  });
  test("statsRow: CPU % is CPU time over wall time; no memory limit shows the host's memory", () => {
    const a = { at: 0, stats: { cpu: { usageUsec: 0 } }, net: { rx: 0, tx: 0 } };
    const b = { at: 1000, stats: { cpu: { usageUsec: 500_000, nrThrottled: 3 }, memory: { usage: 1 << 20, limit: undefined }, pids: { current: 2, limit: 20 } }, net: { rx: 10, tx: 20 } };
    const r = statsRow("c1", a, b, 4 << 20);
    expect(r.CPUPerc).toBe("50.00%");
    expect(r.MemUsage).toBe("1MiB / 4MiB");
    expect(r.MemPerc).toBe("25.00%");
    expect(r.PIDs).toBe("2");
    expect(r.Raw.nrThrottled).toBe(3);
    expect(r.Raw.pidsLimit).toBe(20);
    expect(formatTable([r]).split("\n")[0]).toMatch(/^NAME\s+CPU %\s+MEM USAGE \/ LIMIT/);
  });
});
