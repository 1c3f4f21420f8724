/**
 * OCI device rules → a BPF_PROG_TYPE_CGROUP_DEVICE program (pure), the way
 * runc's devicefilter and crun's ebpf.c build it.
 *
 * The program reads `struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; }`
 * (access_type = access << 16 | type) into r2..r5, then tests one block per
 * rule. OCI (like v1 devices.allow/deny written in order) lets the LAST
 * matching rule win, so blocks are emitted from the last rule to the first and
 * the first matching block returns. A rule that matches everything ends the
 * program (the rules before it are unreachable). No match → deny.
 */
import { ConfigError } from "../errors.ts";
import type { LinuxDeviceCgroupRule } from "./resources.ts";

// Instruction classes and operations (include/uapi/linux/bpf.h, bpf_common.h).
const BPF_LDX_MEM_W = 0x61; // BPF_LDX | BPF_MEM | BPF_W
const BPF_ALU_AND_K = 0x54; // BPF_ALU | BPF_AND | BPF_K (32-bit)
const BPF_ALU_RSH_K = 0x74;
const BPF_ALU_MOV_K = 0xb4;
const BPF_ALU_MOV_X = 0xbc;
const BPF_JMP_JNE_K = 0x55; // BPF_JMP | BPF_JNE | BPF_K
const BPF_JMP_JNE_X = 0x5d;
const BPF_EXIT = 0x95;

export const BPF_DEVCG_ACC_MKNOD = 1, BPF_DEVCG_ACC_READ = 2, BPF_DEVCG_ACC_WRITE = 4;
export const BPF_DEVCG_DEV_BLOCK = 1, BPF_DEVCG_DEV_CHAR = 2;

type Insn = { op: number; dst: number; src: number; off: number | string; imm: number };

const R0 = 0, R1 = 1, R2 = 2, R3 = 3, R4 = 4, R5 = 5;

function accessBits(access: string | undefined): number {
  let bits = 0;
  for (const ch of access || "rwm") {
    if (ch === "r") bits |= BPF_DEVCG_ACC_READ;
    else if (ch === "w") bits |= BPF_DEVCG_ACC_WRITE;
    else if (ch === "m") bits |= BPF_DEVCG_ACC_MKNOD;
    else throw new ConfigError("linux.resources.devices", `invalid access "${access}": expected letters from "rwm"`);
  }
  return bits;
}

/** The program as a list of instructions with symbolic jump targets ("next"). */
function rulesToInsns(rules: LinuxDeviceCgroupRule[]): Insn[] {
  const insns: Insn[] = [
    { op: BPF_LDX_MEM_W, dst: R2, src: R1, off: 0, imm: 0 },
    { op: BPF_ALU_AND_K, dst: R2, src: 0, off: 0, imm: 0xffff },
    { op: BPF_LDX_MEM_W, dst: R3, src: R1, off: 0, imm: 0 },
    { op: BPF_ALU_RSH_K, dst: R3, src: 0, off: 0, imm: 16 },
    { op: BPF_LDX_MEM_W, dst: R4, src: R1, off: 4, imm: 0 },
    { op: BPF_LDX_MEM_W, dst: R5, src: R1, off: 8, imm: 0 },
  ];
  let block = 0;
  let endsWithWildcard = false;
  for (let i = rules.length - 1; i >= 0; i--) {
    const rule = rules[i]!;
    const next = `block-${block + 1}`;
    const type = rule.type ?? "a";
    const access = accessBits(rule.access);
    const checks: Insn[] = [];
    if (type !== "a") {
      checks.push({ op: BPF_JMP_JNE_K, dst: R2, src: 0, off: next, imm: type === "c" ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK });
    }
    if (access !== 7) {
      // Deny unless every requested access bit is covered: (r3 & access) != r3 → next.
      checks.push({ op: BPF_ALU_MOV_X, dst: R1, src: R3, off: 0, imm: 0 });
      checks.push({ op: BPF_ALU_AND_K, dst: R1, src: 0, off: 0, imm: access });
      checks.push({ op: BPF_JMP_JNE_X, dst: R1, src: R3, off: next, imm: 0 });
    }
    if (rule.major !== undefined && rule.major >= 0) checks.push({ op: BPF_JMP_JNE_K, dst: R4, src: 0, off: next, imm: rule.major | 0 });
    if (rule.minor !== undefined && rule.minor >= 0) checks.push({ op: BPF_JMP_JNE_K, dst: R5, src: 0, off: next, imm: rule.minor | 0 });
    insns.push(...checks);
    insns.push({ op: BPF_ALU_MOV_K, dst: R0, src: 0, off: 0, imm: rule.allow ? 1 : 0 });
    insns.push({ op: BPF_EXIT, dst: 0, src: 0, off: 0, imm: 0 });
    label(insns, insns.length - 2 - checks.length, `block-${block}`);
    block++;
    if (checks.length === 0) {
      endsWithWildcard = true;
      break;
    }
  }
  if (!endsWithWildcard) {
    insns.push({ op: BPF_ALU_MOV_K, dst: R0, src: 0, off: 0, imm: 0 });
    insns.push({ op: BPF_EXIT, dst: 0, src: 0, off: 0, imm: 0 });
    label(insns, insns.length - 2, `block-${block}`);
  }
  return insns;
}

const labels = new WeakMap<Insn, string>();
function label(insns: Insn[], index: number, name: string): void {
  labels.set(insns[index]!, name);
}

/** Encodes the program as `struct bpf_insn[]` (8 bytes each, little-endian). */
export function deviceFilterProgram(rules: LinuxDeviceCgroupRule[]): Uint8Array {
  const insns = rulesToInsns(rules);
  const where = new Map<string, number>();
  insns.forEach((ins, i) => {
    const l = labels.get(ins);
    if (l !== undefined) where.set(l, i);
  });
  const out = new Uint8Array(insns.length * 8);
  const dv = new DataView(out.buffer);
  insns.forEach((ins, i) => {
    let off = 0;
    if (typeof ins.off === "string") {
      const target = where.get(ins.off);
      if (target === undefined) throw new Error(`Internal error: unresolved BPF label "${ins.off}"`);
      off = target - i - 1;
    } else off = ins.off;
    dv.setUint8(i * 8, ins.op);
    dv.setUint8(i * 8 + 1, (ins.src << 4) | ins.dst);
    dv.setInt16(i * 8 + 2, off, true);
    dv.setInt32(i * 8 + 4, ins.imm, true);
  });
  return out;
}

/** Whether the rules allow everything (no program needed): the last rule is an "a *:* rwm" allow. */
export function allowsEverything(rules: LinuxDeviceCgroupRule[]): boolean {
  const last = rules[rules.length - 1];
  if (!last || !last.allow) return false;
  return (last.type ?? "a") === "a" && (last.major ?? -1) < 0 && (last.minor ?? -1) < 0 && accessBits(last.access) === 7;
}
