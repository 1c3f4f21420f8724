import { expect, test } from "bun:test";
import { dockerResources, parseThrottleDevice } from "./docker-flags.ts";

const stat = (p: string) => (p === "/dev/sda" ? 0x0800 : 0x0810);

test("--memory alone: docker lets the container use as much swap as memory", () => {
  expect(dockerResources({ memory: "256m" })).toEqual({ memory: { limit: 268435456, swap: 536870912, swapIsDefault: true } });
});
test("--memory-swap: equal = no swap, -1 = unlimited, smaller or alone = error", () => {
  expect(dockerResources({ memory: "256m", memorySwap: "256m" }).memory).toEqual({ limit: 268435456, swap: 268435456 });
  expect(dockerResources({ memory: "256m", memorySwap: "-1" }).memory).toEqual({ limit: 268435456, swap: -1 });
  expect(() => dockerResources({ memory: "256m", memorySwap: "128m" })).toThrow(/at least --memory/);
  expect(() => dockerResources({ memorySwap: "1g" })).toThrow(/without --memory/);
  expect(() => dockerResources({ memory: "1m" })).toThrow(/minimum is 6MB/);
});
test("--memory-reservation, --oom-kill-disable, --memory-swappiness", () => {
  expect(dockerResources({ memory: "1g", memorySwap: "1g", memoryReservation: "512m", oomKillDisable: true, memorySwappiness: 0 }).memory).toEqual({
    limit: 1073741824, swap: 1073741824, reservation: 536870912, disableOOMKiller: true, swappiness: 0,
  });
  expect(() => dockerResources({ memory: "100m", memoryReservation: "200m" })).toThrow(/smaller than --memory/);
});
test("--cpus → quota/period; conflicts with --cpu-quota; shares and cpuset pass through", () => {
  expect(dockerResources({ cpus: "0.5" }).cpu).toEqual({ period: 100000, quota: 50000 });
  expect(dockerResources({ cpus: "1.5", cpuShares: 512, cpusetCpus: "0-1", cpusetMems: "0" }).cpu).toEqual({
    period: 100000, quota: 150000, shares: 512, cpus: "0-1", mems: "0",
  });
  expect(dockerResources({ cpuQuota: 20000, cpuPeriod: 50000 }).cpu).toEqual({ quota: 20000, period: 50000 });
  expect(() => dockerResources({ cpus: "1", cpuQuota: 1000 })).toThrow(/Cannot use --cpus with/);
  expect(() => dockerResources({ cpus: "abc" })).toThrow(/Invalid value "abc" for --cpus/);
});
test("--pids-limit: 0 and -1 mean unlimited", () => {
  expect(dockerResources({ pidsLimit: 100 }).pids).toEqual({ limit: 100 });
  expect(dockerResources({ pidsLimit: 0 }).pids).toEqual({ limit: -1 });
});
test("--blkio-weight and device throttles", () => {
  const r = dockerResources(
    { blkioWeight: 300, deviceReadBps: ["/dev/sda:1mb"], deviceWriteBps: ["/dev/sdb:10k"], deviceReadIops: ["/dev/sda:100"], deviceWriteIops: ["/dev/sda:5"] },
    stat,
  );
  expect(r.blockIO).toEqual({
    weight: 300,
    throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }],
    throttleWriteBpsDevice: [{ major: 8, minor: 16, rate: 10240 }],
    throttleReadIOPSDevice: [{ major: 8, minor: 0, rate: 100 }],
    throttleWriteIOPSDevice: [{ major: 8, minor: 0, rate: 5 }],
  });
  expect(() => dockerResources({ blkioWeight: 5 })).toThrow(/10 to 1000/);
  expect(() => parseThrottleDevice("device-read-iops", "/dev/sda:1k", true, stat)).toThrow(/positive integer/);
  expect(() => parseThrottleDevice("device-read-bps", "nocolon", false, stat)).toThrow(/DEVICE_PATH:RATE/);
});
