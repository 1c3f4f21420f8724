/** The process steps of the launch plan: credentials, capabilities, execve. */
import * as K from "../../ffi/consts.ts";
import { ConfigError } from "../errors.ts";
import type { OciProcess } from "../oci/runtime/config.ts";
import { Op } from "../spawn/plan-encode.ts";
import type { Emitter } from "./emit.ts";
import type { HostFacts } from "./host.ts";

export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

export function capMask(names: readonly string[] | undefined, path: string): bigint {
  let m = 0n;
  (names ?? []).forEach((n, i) => {
    const idx = (K.CAPABILITIES as readonly string[]).indexOf(n);
    if (idx < 0) throw new ConfigError(`${path}[${i}]`, `unknown capability "${n}"`);
    m |= 1n << BigInt(idx);
  });
  return m;
}

/**
 * Order: bounding set, groups, keep-caps, gid, uid, capset, ambient. Dropping
 * from the bounding set needs CAP_SETPCAP in the effective set, which a
 * change to a non-zero uid clears, so it comes first.
 */
export function planCredentials(e: Emitter, proc: OciProcess, host: HostFacts): void {
  const b = e.b;
  const caps = proc.capabilities ?? {};
  const bounding = capMask(caps.bounding, "process.capabilities.bounding");
  const own = host.ownCaps.reduce((m, c) => m | (1n << BigInt(c)), 0n);
  const missing = bounding & ~own;
  if (missing) {
    const names = K.CAPABILITIES.filter((_, i) => missing & (1n << BigInt(i)));
    throw new ConfigError("process.capabilities.bounding", `the runtime does not hold ${names.join(", ")} on this host`);
  }
  b.step("drop capabilities from the bounding set");
  for (let c = 0; c <= host.lastCap; c++) {
    if (bounding & (1n << BigInt(c))) continue;
    e.sys("prctl", [K.PR_CAPBSET_DROP, c, 0, 0, 0], { okErrno: 22 /* EINVAL: above the kernel's last cap */ });
  }
  b.step("set the umask");
  e.sys("umask", [proc.user.umask ?? 0o022]);
  const { uid, gid } = proc.user;
  b.step(`set supplementary groups`);
  const groups = proc.user.additionalGids ?? [];
  const gbuf = new Uint8Array(Math.max(4, groups.length * 4));
  groups.forEach((g, i) => new DataView(gbuf.buffer).setUint32(i * 4, g, true));
  e.sys("setgroups", [groups.length, b.bytes(gbuf)]);
  b.step("keep capabilities across the uid change");
  e.sys("prctl", [K.PR_SET_KEEPCAPS, 1, 0, 0, 0]);
  b.step(`set gid ${gid}`);
  e.sys("setresgid", [gid, gid, gid]);
  b.step(`set uid ${uid}`);
  e.sys("setresuid", [uid, uid, uid]);
  b.step("set capabilities");
  const eff = capMask(caps.effective, "process.capabilities.effective");
  const perm = capMask(caps.permitted, "process.capabilities.permitted");
  const amb = capMask(caps.ambient, "process.capabilities.ambient");
  // the kernel raises an ambient capability only if it is permitted and inheritable
  const inh = capMask(caps.inheritable, "process.capabilities.inheritable") | (amb & perm);
  const hdr = new Uint8Array(8);
  new DataView(hdr.buffer).setUint32(0, K.LINUX_CAPABILITY_VERSION_3, true);
  const data = new Uint8Array(24);
  const dv = new DataView(data.buffer);
  const lo = (m: bigint) => Number(m & 0xffffffffn), hi = (m: bigint) => Number((m >> 32n) & 0xffffffffn);
  dv.setUint32(0, lo(eff), true);
  dv.setUint32(4, lo(perm), true);
  dv.setUint32(8, lo(inh), true);
  dv.setUint32(12, hi(eff), true);
  dv.setUint32(16, hi(perm), true);
  dv.setUint32(20, hi(inh), true);
  e.sys("capset", [b.bytes(hdr), b.bytes(data)]);
  b.step("set ambient capabilities");
  e.sys("prctl", [K.PR_CAP_AMBIENT, K.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0], { okErrno: 22 });
  for (let c = 0; c < K.CAPABILITIES.length; c++)
    if (amb & perm & (1n << BigInt(c))) e.sys("prctl", [K.PR_CAP_AMBIENT, K.PR_CAP_AMBIENT_RAISE, c, 0, 0]);
}

/** Where execve looks for `name`: docker's rules (a path with "/" as given, else each $PATH entry). */
export function execCandidates(name: string, env: readonly string[]): string[] {
  if (name.includes("/")) return [name];
  const pathVar = env.findLast((v) => v.startsWith("PATH="))?.slice(5) ?? DEFAULT_PATH;
  return pathVar.split(":").map((d) => `${d === "" ? "." : d.replace(/\/+$/, "")}/${name}`);
}

export function planExec(e: Emitter, name: string, args: readonly string[], env: readonly string[], candidates: string[]): void {
  const b = e.b;
  b.step(`execute "${name}"`);
  const argv = b.ptrArray(args.map((a) => b.str(a)));
  const envp = b.ptrArray(env.map((v) => b.str(v)));
  const cands = b.ptrArray(candidates.map((c) => b.str(c)));
  b.op(Op.EXEC, [cands, argv, envp]);
}
