/**
 * Plans → BPF. Every block built here is position independent: its jumps stay inside it and
 * every path ends in RET, so blocks can be concatenated freely.
 */
import { actionRank, ENOSYS, SECCOMP_RET_ERRNO } from "./actions.ts";
import { BPF_JGE, BPF_JEQ, ja, jmp, ldAbs, ret, SECCOMP_DATA_ARCH, SECCOMP_DATA_NR, type Insn } from "./bpf.ts";
import { compileCondition, type RelInsn } from "./conditions.ts";
import { DENSE, type ArchPlan, type ConditionalRule } from "./plan.ts";

/** A leaf of the syscall-number search: one return value, or a body testing arguments. */
export type Outcome = { ret: number; body?: undefined } | { body: Insn[]; ret?: undefined };

interface CompiledRule {
  code: RelInsn[];
  action: number;
  seq: number;
}

/**
 * Conditional rules run before the unconditional one. Among conditional rules the most
 * restrictive action is tried first (kernel precedence KILL_PROCESS > KILL_THREAD > TRAP >
 * ERRNO > NOTIFY > TRACE > LOG > ALLOW; profile order breaks ties), so the result never depends
 * on the order the rules were written in.
 */
export function syscallOutcome(
  conditional: readonly ConditionalRule[],
  unconditional: number | undefined,
  defaultAction: number,
  wide: boolean,
): Outcome {
  let fall = unconditional ?? defaultAction;
  const rules: CompiledRule[] = [];
  for (const r of conditional) {
    const code: RelInsn[] = [];
    let never = false;
    for (const c of r.conds) {
      const cc = compileCondition(c, wide);
      if (cc === "never") never = true;
      else if (cc !== "always") code.push(...cc);
    }
    if (!never) rules.push({ code, action: r.action, seq: r.seq });
  }
  rules.sort((a, b) => actionRank(a.action) - actionRank(b.action) || a.seq - b.seq);
  const firstAlways = rules.findIndex((r) => r.code.length === 0);
  if (firstAlways >= 0) {
    fall = rules[firstAlways]!.action;
    rules.length = firstAlways;
  }
  while (rules.length > 0 && rules[rules.length - 1]!.action === fall) rules.pop();
  if (rules.length === 0) return { ret: fall };
  const body: Insn[] = [];
  for (const r of rules) body.push(...resolveRule(r));
  body.push(ret(fall));
  return { body };
}

/** The rule's conditions then RET; "F" (a condition failed) lands just past the RET. */
function resolveRule(r: CompiledRule): Insn[] {
  const len = r.code.length + 1;
  const out = r.code.map((ins, p): Insn => ({
    code: ins.code,
    k: ins.k,
    jt: ins.jt === "F" ? len - (p + 1) : ins.jt,
    jf: ins.jf === "F" ? len - (p + 1) : ins.jf,
  }));
  out.push(ret(r.action));
  return out;
}

export interface Segment {
  /** First syscall number of the segment; it runs up to the next segment's start. */
  start: number;
  out: Outcome;
}

/** Appends a segment unless it repeats the previous return value. */
export function pushSegment(out: Segment[], start: number, o: Outcome): void {
  const prev = out[out.length - 1];
  if (prev && prev.out.ret !== undefined && o.ret !== undefined && prev.out.ret === o.ret) return;
  out.push({ start, out: o });
}

/**
 * The segments for one sub-arch, whose numbers start at `base` (the x32 bit or 0). Numbers no
 * rule names get the default action, or ENOSYS above the highest named number when `enosys`
 * (runc's stub, so that libc falls back from syscalls newer than the profile). Runs on every
 * container start, hence the plain loop.
 */
export function archSegments(out: Segment[], plan: ArchPlan, defaultAction: number, enosys: boolean): void {
  const base = plan.info.nrBase;
  const enosysFrom = enosys && plan.last >= 0 ? plan.last + 1 : Number.POSITIVE_INFINITY;
  const enosysRet = (SECCOMP_RET_ERRNO | ENOSYS) >>> 0;
  const hasCond = plan.cond.size > 0;
  const emit = (n: number, u: number) => {
    const cond = hasCond ? plan.cond.get(n) : undefined;
    if (cond) {
      pushSegment(out, (base + n) >>> 0, syscallOutcome(cond, Number.isNaN(u) ? undefined : u, defaultAction, plan.info.wide));
      return;
    }
    const r = !Number.isNaN(u) ? u : n >= enosysFrom ? enosysRet : defaultAction;
    const prev = out[out.length - 1];
    if (prev && prev.out.ret === r) return;
    out.push({ start: (base + n) >>> 0, out: { ret: r } });
  };
  const dense = plan.uncond;
  const end = Math.min(plan.maxDense + 1, DENSE - 1);
  for (let n = 0; n <= end; n++) emit(n, dense[n]!);
  if (plan.uncondSparse.size === 0 && plan.cond.size === 0) return;
  const sparse: number[] = [];
  for (const n of plan.uncondSparse.keys()) sparse.push(n, n + 1);
  for (const n of plan.cond.keys()) if (n >= DENSE) sparse.push(n, n + 1);
  if (sparse.length === 0) return;
  sparse.sort((a, b) => a - b);
  let last = -1;
  for (const n of sparse) {
    if (n === last) continue;
    last = n;
    emit(n, plan.uncondSparse.get(n) ?? Number.NaN);
  }
}

/**
 * Binary search over segment boundaries (A holds nr), written into one array: a slot is kept
 * for the JGE, the left half is emitted, then the JGE is filled in. Conditional jumps reach
 * only 255 instructions, so when the left half is longer the true branch goes through a JA
 * (32-bit offset), spliced in after the JGE; that only happens near the root.
 */
export function searchTree(out: Insn[], segs: readonly Segment[], i = 0, j = segs.length - 1): void {
  if (i === j) {
    const o = segs[i]!.out;
    if (o.body) for (const ins of o.body) out.push(ins);
    else out.push(ret(o.ret));
    return;
  }
  const mid = (i + j + 1) >> 1;
  const at = out.length;
  out.push(ret(0)); // placeholder for the JGE
  searchTree(out, segs, i, mid - 1);
  const leftLen = out.length - at - 1;
  const boundary = segs[mid]!.start;
  if (leftLen <= 255) {
    out[at] = jmp(BPF_JGE, boundary, leftLen, 0);
  } else {
    out[at] = jmp(BPF_JGE, boundary, 0, 1);
    out.splice(at + 1, 0, ja(leftLen));
  }
  searchTree(out, segs, mid, j);
}

export function sectionCode(segs: readonly Segment[]): Insn[] {
  const out: Insn[] = [ldAbs(SECCOMP_DATA_NR)];
  searchTree(out, segs);
  return out;
}

/**
 * LD arch; one JEQ per section (plus a JA when the section is out of 8-bit reach); RET for an
 * arch the profile does not cover; then the sections. Header sizes depend on which jumps are
 * long, so iterate until stable (a jump only ever turns long).
 */
export function layoutProgram(sections: readonly { audit: number; code: Insn[] }[], badArch: number): Insn[] {
  const long = sections.map(() => false);
  let starts: number[] = [];
  let jeqAt: number[] = [];
  for (let changed = true; changed; ) {
    changed = false;
    let idx = 1;
    jeqAt = sections.map((_, i) => {
      const at = idx;
      idx += long[i] ? 2 : 1;
      return at;
    });
    let next = idx + 1;
    starts = sections.map((s) => {
      const at = next;
      next += s.code.length;
      return at;
    });
    sections.forEach((_, i) => {
      if (!long[i] && starts[i]! - (jeqAt[i]! + 1) > 255) long[i] = changed = true;
    });
  }
  const out: Insn[] = [ldAbs(SECCOMP_DATA_ARCH)];
  sections.forEach((s, i) => {
    if (long[i]) out.push(jmp(BPF_JEQ, s.audit, 0, 1), ja(starts[i]! - (jeqAt[i]! + 2)));
    else out.push(jmp(BPF_JEQ, s.audit, starts[i]! - (jeqAt[i]! + 1), 0));
  });
  out.push(ret(badArch));
  for (const s of sections) out.push(...s.code);
  return out;
}
