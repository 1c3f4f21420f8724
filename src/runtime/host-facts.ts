/** Gathers the HostFacts a plan needs (a few small /proc reads). */
import { readFileSync } from "node:fs";
import type { HostFacts } from "../plan/host.ts";
import { cgroupMountFacts } from "../plan/cgroup-mount.ts";
import { selfMountinfo } from "../cgroups/mountinfo.ts";
import { kernelVersion } from "./seccomp.ts";

let cached: HostFacts | undefined;

export function hostFacts(): HostFacts {
  if (cached) return cached;
  const lastCap = Number(readFileSync("/proc/sys/kernel/cap_last_cap", "utf8").trim());
  const status = readFileSync("/proc/self/status", "utf8");
  const bnd = BigInt(`0x${/CapBnd:\s*([0-9a-f]+)/.exec(status)?.[1] ?? "0"}`);
  const eff = BigInt(`0x${/CapEff:\s*([0-9a-f]+)/.exec(status)?.[1] ?? "0"}`);
  const own: number[] = [];
  for (let i = 0; i <= lastCap; i++) if (bnd & eff & (1n << BigInt(i))) own.push(i);
  const mountinfo = selfMountinfo();
  cached = {
    arch: process.arch === "arm64" ? "arm64" : "x64",
    lastCap,
    ownCaps: own,
    cgroups: cgroupLayout(mountinfo),
    cgroupMounts: cgroupMountFacts(mountinfo),
    kernel: kernelVersion(),
  };
  return cached;
}

export function cgroupLayout(mountinfo: string): HostFacts["cgroups"] {
  let v1 = false, v2 = false;
  for (const line of mountinfo.split("\n")) {
    const fstype = line.split(" - ")[1]?.split(" ")[0];
    if (fstype === "cgroup") v1 = true;
    else if (fstype === "cgroup2") v2 = true;
  }
  return v1 ? (v2 ? "hybrid" : "v1") : "v2";
}
