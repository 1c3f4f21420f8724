/**
 * Code for one argument comparison. seccomp_data.args[i] is a u64 but classic BPF is 32-bit, so
 * every comparison works on the high and low halves (libseccomp compares unsigned, and so do we).
 *
 * A comparison is a small block: falling off its end means "condition holds", a jump to "F"
 * means "condition fails" (the caller points F at the next rule).
 */
import { argHiOffset, argLoOffset, BPF_ALU, BPF_AND, BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JMP, BPF_K, BPF_LD, BPF_ABS, BPF_W } from "./bpf.ts";
import type { Operator } from "./profile-schema.ts";

export type Target = number | "F";
export interface RelInsn {
  code: number;
  k: number;
  jt: Target;
  jf: Target;
}
export type CondCode = "always" | "never" | RelInsn[];

export interface Condition {
  index: number;
  op: Operator;
  value: bigint;
  valueTwo: bigint;
}

const LD = BPF_LD | BPF_W | BPF_ABS;
const ld = (k: number): RelInsn => ({ code: LD, k, jt: 0, jf: 0 });
const and = (k: number): RelInsn => ({ code: BPF_ALU | BPF_AND | BPF_K, k: k >>> 0, jt: 0, jf: 0 });
const j = (op: number, k: number, jt: Target, jf: Target): RelInsn => ({ code: BPF_JMP | op | BPF_K, k: k >>> 0, jt, jf });

const hiOf = (x: bigint) => Number((x >> 32n) & 0xffffffffn);
const loOf = (x: bigint) => Number(x & 0xffffffffn);

/**
 * `wide` = the ABI has 64-bit arguments. For 32-bit ABIs (i386, arm) the kernel zero-extends
 * the arguments, so the high half is known to be 0 and only the low half is tested, as
 * libseccomp does; comparisons the high half alone decides become "always"/"never".
 */
export function compileCondition(c: Condition, wide: boolean): CondCode {
  const lo = argLoOffset(c.index);
  const hi = argHiOffset(c.index);
  if (c.op === "SCMP_CMP_MASKED_EQ") return masked(c, wide, lo, hi);
  const vhi = hiOf(c.value);
  const vlo = loOf(c.value);
  if (!wide) return narrow(c.op, vhi, vlo, lo);
  // PASS offsets below are "jump to the end of this block", counted from the next instruction.
  switch (c.op) {
    case "SCMP_CMP_EQ":
      return [ld(hi), j(BPF_JEQ, vhi, 0, "F"), ld(lo), j(BPF_JEQ, vlo, 0, "F")];
    case "SCMP_CMP_NE":
      return [ld(hi), j(BPF_JEQ, vhi, 0, 2), ld(lo), j(BPF_JEQ, vlo, "F", 0)];
    case "SCMP_CMP_GT":
      return [ld(hi), j(BPF_JGT, vhi, 3, 0), j(BPF_JEQ, vhi, 0, "F"), ld(lo), j(BPF_JGT, vlo, 0, "F")];
    case "SCMP_CMP_GE":
      return [ld(hi), j(BPF_JGT, vhi, 3, 0), j(BPF_JEQ, vhi, 0, "F"), ld(lo), j(BPF_JGE, vlo, 0, "F")];
    case "SCMP_CMP_LT":
      return [ld(hi), j(BPF_JGT, vhi, "F", 0), j(BPF_JEQ, vhi, 0, 2), ld(lo), j(BPF_JGE, vlo, "F", 0)];
    case "SCMP_CMP_LE":
      return [ld(hi), j(BPF_JGT, vhi, "F", 0), j(BPF_JEQ, vhi, 0, 2), ld(lo), j(BPF_JGT, vlo, "F", 0)];
  }
}

function narrow(op: Exclude<Operator, "SCMP_CMP_MASKED_EQ">, vhi: number, vlo: number, lo: number): CondCode {
  const big = vhi !== 0; // the value is above every possible 32-bit argument
  switch (op) {
    case "SCMP_CMP_EQ":
      return big ? "never" : [ld(lo), j(BPF_JEQ, vlo, 0, "F")];
    case "SCMP_CMP_NE":
      return big ? "always" : [ld(lo), j(BPF_JEQ, vlo, "F", 0)];
    case "SCMP_CMP_GT":
      return big ? "never" : [ld(lo), j(BPF_JGT, vlo, 0, "F")];
    case "SCMP_CMP_GE":
      return big ? "never" : [ld(lo), j(BPF_JGE, vlo, 0, "F")];
    case "SCMP_CMP_LT":
      return big ? "always" : [ld(lo), j(BPF_JGE, vlo, "F", 0)];
    case "SCMP_CMP_LE":
      return big ? "always" : [ld(lo), j(BPF_JGT, vlo, "F", 0)];
  }
}

/** (arg & value) == valueTwo; halves whose mask is 0 need no code when the datum half is 0. */
function masked(c: Condition, wide: boolean, lo: number, hi: number): CondCode {
  const mask = c.value;
  const datum = c.valueTwo;
  if ((datum & ~mask & ((1n << 64n) - 1n)) !== 0n) return "never";
  const out: RelInsn[] = [];
  const half = (off: number, m: number, d: number) => {
    if (m === 0) return; // d is 0 here, checked above
    out.push(ld(off));
    if (m !== 0xffffffff) out.push(and(m));
    out.push(j(BPF_JEQ, d, 0, "F"));
  };
  if (wide) half(hi, hiOf(mask), hiOf(datum));
  else if (hiOf(datum) !== 0) return "never";
  half(lo, loOf(mask), loOf(datum));
  return out.length === 0 ? "always" : out;
}
