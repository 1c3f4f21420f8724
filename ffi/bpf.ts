/**
 * bpf(2) for cgroup device programs: load a BPF_PROG_TYPE_CGROUP_DEVICE
 * program, attach it to a cgroup v2 directory (BPF_F_ALLOW_MULTI, as runc
 * does, so an update can attach the new program before detaching the old one),
 * list and detach the programs attached there. The instructions come from
 * src/cgroups/device-filter.ts.
 */
import { SysError } from "./errno.ts";
import { addr, rawSyscall } from "./libc.ts";
import { syscallTable } from "./syscalls.ts";

const BPF_PROG_LOAD = 5, BPF_PROG_ATTACH = 8, BPF_PROG_DETACH = 9, BPF_PROG_GET_FD_BY_ID = 13, BPF_PROG_QUERY = 16;
const BPF_PROG_TYPE_CGROUP_DEVICE = 15;
const BPF_CGROUP_DEVICE = 6;
const BPF_F_ALLOW_MULTI = 2;
const ATTR_SIZE = 128;

function bpf(cmd: number, attr: Uint8Array, what: string): number {
  for (;;) {
    const r = rawSyscall(syscallTable().bpf, cmd, addr(attr), attr.byteLength);
    if (r === -4 || r === -11) continue; // EINTR, EAGAIN (the verifier asks to retry)
    if (r < 0) throw new SysError(what, -r);
    return r;
  }
}

/** Loads the program; returns its fd. On a verifier error the kernel log is in the message. */
export function loadDeviceProgram(insns: Uint8Array): number {
  const license = Buffer.from("Apache\0");
  const log = new Uint8Array(4096);
  const attr = new Uint8Array(ATTR_SIZE);
  const dv = new DataView(attr.buffer);
  dv.setUint32(0, BPF_PROG_TYPE_CGROUP_DEVICE, true);
  dv.setUint32(4, insns.byteLength / 8, true);
  dv.setBigUint64(8, BigInt(addr(insns)), true);
  dv.setBigUint64(16, BigInt(addr(license)), true);
  dv.setUint32(68, BPF_CGROUP_DEVICE, true);
  attr.set(Buffer.from("pelagos_dev"), 48);
  try {
    return bpf(BPF_PROG_LOAD, attr, "bpf(BPF_PROG_LOAD)");
  } catch (e) {
    if (!(e instanceof SysError) || e.code !== "EACCES" && e.code !== "EINVAL") throw e;
    // Load again with the verifier log to say why.
    dv.setUint32(24, 1, true);
    dv.setUint32(28, log.byteLength, true);
    dv.setBigUint64(32, BigInt(addr(log)), true);
    try {
      return bpf(BPF_PROG_LOAD, attr, "bpf(BPF_PROG_LOAD)");
    } catch (e2) {
      const text = Buffer.from(log).toString("utf8").replace(/\0.*$/s, "").trim();
      throw new SysError(`bpf(BPF_PROG_LOAD) [${text.split("\n").slice(-3).join("; ")}]`, (e2 as SysError).errno);
    }
  }
}

function attachAttr(cgroupFd: number, progFd: number, flags: number): Uint8Array {
  const attr = new Uint8Array(ATTR_SIZE);
  const dv = new DataView(attr.buffer);
  dv.setUint32(0, cgroupFd, true);
  dv.setUint32(4, progFd, true);
  dv.setUint32(8, BPF_CGROUP_DEVICE, true);
  dv.setUint32(12, flags, true);
  return attr;
}

export function attachDeviceProgram(cgroupFd: number, progFd: number): void {
  bpf(BPF_PROG_ATTACH, attachAttr(cgroupFd, progFd, BPF_F_ALLOW_MULTI), "bpf(BPF_PROG_ATTACH)");
}

export function detachDeviceProgram(cgroupFd: number, progFd: number): void {
  bpf(BPF_PROG_DETACH, attachAttr(cgroupFd, progFd, 0), "bpf(BPF_PROG_DETACH)");
}

/** Ids of the device programs attached directly to the cgroup. */
export function queryDevicePrograms(cgroupFd: number): number[] {
  const ids = new Uint32Array(64);
  const attr = new Uint8Array(ATTR_SIZE);
  const dv = new DataView(attr.buffer);
  dv.setUint32(0, cgroupFd, true);
  dv.setUint32(4, BPF_CGROUP_DEVICE, true);
  dv.setBigUint64(16, BigInt(addr(ids)), true);
  dv.setUint32(24, ids.length, true);
  bpf(BPF_PROG_QUERY, attr, "bpf(BPF_PROG_QUERY)");
  return [...ids.subarray(0, dv.getUint32(24, true))];
}

export function programFdById(id: number): number {
  const attr = new Uint8Array(ATTR_SIZE);
  new DataView(attr.buffer).setUint32(0, id, true);
  return bpf(BPF_PROG_GET_FD_BY_ID, attr, "bpf(BPF_PROG_GET_FD_BY_ID)");
}

export function closeFd(fd: number): void {
  rawSyscall(syscallTable().close, fd);
}
