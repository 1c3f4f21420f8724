/**
 * compileSeccomp: profile + container facts → classic BPF bytes for seccomp(SET_MODE_FILTER).
 * Pure: no syscalls, no files. Layout and precedence are described in README.md.
 */
import { ConfigError } from "../errors.ts";
import {
  actionValue,
  ENOSYS,
  FILTER_FLAGS,
  SECCOMP_FILTER_FLAG_NEW_LISTENER,
  SECCOMP_RET_ACTION_FULL,
  SECCOMP_RET_ERRNO,
  SECCOMP_RET_KILL_THREAD,
  SECCOMP_RET_USER_NOTIF,
} from "./actions.ts";
import { HOST_ARCHES, X32_SYSCALL_BIT, type HostArch } from "./arch/index.ts";
import { BPF_K, BPF_MAXINSNS, BPF_RET, encodeProgram } from "./bpf.ts";
import { archSegments, layoutProgram, pushSegment, sectionCode, type Segment } from "./codegen.ts";
import { planArches, type ArchPlan } from "./plan.ts";
import type { SeccompProfile } from "./profile-schema.ts";
import { normalizeCap, selectArches, selectRules } from "./select.ts";

export interface CompileOptions {
  arch: HostArch;
  /** Capabilities the container holds (Docker gates on the bounding set), e.g. "CAP_SYS_ADMIN". */
  capabilities: readonly string[];
  /** Host kernel [major, minor] for `minKernel` gates; unknown = older than every gate. */
  kernel?: readonly [number, number];
  /** Whether the kernel supports SECCOMP_RET_USER_NOTIF (5.0+); default true. */
  notifySupported?: boolean;
  /** runc's ENOSYS stub for syscalls newer than the profile knows (default true). */
  enosysForNewSyscalls?: boolean;
  /** JSON path used in error messages. */
  jsonPath?: string;
  log?: (msg: string) => void;
}

export interface CompiledSeccomp {
  /** struct sock_filter[] in host (little endian) byte order. */
  filter: Uint8Array;
  instructions: number;
  /** SECCOMP_FILTER_FLAG_* bits for seccomp(2); NEW_LISTENER is set when needsListener. */
  flags: number;
  /** Names that do not exist on an arch, as `name (SCMP_ARCH_X)`: no code was emitted for them. */
  skipped: string[];
  /** Some rule returns SECCOMP_RET_USER_NOTIF: load with NEW_LISTENER and serve the fd. */
  needsListener: boolean;
}

/** An arch not in the profile: libseccomp's default bad-arch action, SCMP_ACT_KILL. */
export const BAD_ARCH_ACTION = SECCOMP_RET_KILL_THREAD;

export function compileSeccomp(profile: SeccompProfile, opts: CompileOptions): CompiledSeccomp {
  const log = opts.log ?? (() => {});
  const jsonPath = opts.jsonPath ?? "linux.seccomp";
  const host = HOST_ARCHES[opts.arch];
  if (!host) throw new ConfigError(jsonPath, `Cannot build a filter for architecture "${opts.arch}"`);
  const defaultAction = actionValue(profile.defaultAction, profile.defaultErrnoRet ?? undefined);
  const caps = new Set(opts.capabilities.map(normalizeCap));
  const rules = selectRules(profile, { goArch: host.goArch, caps, kernel: opts.kernel }, jsonPath);
  if (opts.notifySupported === false) {
    const r = rules.find((x) => (x.action & SECCOMP_RET_ACTION_FULL) >>> 0 === SECCOMP_RET_USER_NOTIF);
    if (r) throw new ConfigError(`${r.path}.action`, 'Cannot use "SCMP_ACT_NOTIFY": the kernel has no seccomp user notification');
  }
  const skipped = new Set<string>();
  const plans = planArches(rules, selectArches(profile, opts.arch, log), skipped, log);
  const enosys = opts.enosysForNewSyscalls !== false && wantsEnosysStub(profile, defaultAction);
  const insns = layoutProgram(sections(plans, defaultAction, enosys), BAD_ARCH_ACTION);
  if (insns.length > BPF_MAXINSNS) {
    throw new ConfigError(jsonPath, `Cannot load a filter of ${insns.length} instructions: the kernel allows ${BPF_MAXINSNS}`);
  }
  const needsListener = insns.some(
    (i) => i.code === (BPF_RET | BPF_K) && (i.k & SECCOMP_RET_ACTION_FULL) >>> 0 === SECCOMP_RET_USER_NOTIF,
  );
  let flags = 0;
  for (const f of profile.flags ?? []) flags |= FILTER_FLAGS[f] ?? 0;
  if (needsListener) flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
  return { filter: encodeProgram(insns), instructions: insns.length, flags, skipped: [...skipped], needsListener };
}

/** runc (patchbpf) skips the stub for permissive defaults and when the default already is ENOSYS. */
function wantsEnosysStub(profile: SeccompProfile, defaultAction: number): boolean {
  if (["SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_TRACE"].includes(profile.defaultAction)) return false;
  return defaultAction !== ((SECCOMP_RET_ERRNO | ENOSYS) >>> 0);
}

/**
 * One section per seccomp_data.arch value, native first. x86_64 and x32 share
 * AUDIT_ARCH_X86_64: x32 numbers carry the 0x40000000 bit and get the bad-arch action unless
 * SCMP_ARCH_X32 is in the profile. nr = -1 (a tracer cancelling the call) always gets the
 * default action, as in libseccomp.
 */
function sections(plans: readonly ArchPlan[], defaultAction: number, enosys: boolean) {
  const out: { audit: number; code: ReturnType<typeof sectionCode> }[] = [];
  for (const plan of plans) {
    if (plan.info.name === "SCMP_ARCH_X32") continue;
    const segs: Segment[] = [];
    archSegments(segs, plan, defaultAction, enosys);
    if (plan.info.name === "SCMP_ARCH_X86_64") {
      const x32 = plans.find((p) => p.info.name === "SCMP_ARCH_X32");
      if (x32) archSegments(segs, x32, defaultAction, enosys);
      else pushSegment(segs, X32_SYSCALL_BIT, { ret: BAD_ARCH_ACTION });
    }
    pushSegment(segs, 0xffffffff, { ret: defaultAction });
    out.push({ audit: plan.info.audit, code: sectionCode(segs) });
  }
  return out;
}
