/**
 * A classic-BPF interpreter for the subset seccomp filters use, so tests can run compiled
 * programs against a synthetic struct seccomp_data without loading them into a kernel.
 * It checks what the kernel's verifier would reject at run time: jumps out of range, reads
 * outside seccomp_data, falling off the end.
 */
import { BPF_ABS, BPF_ALU, BPF_AND, BPF_JA, BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JMP, BPF_JSET, BPF_K, BPF_LD, BPF_RET, BPF_W, decodeProgram, type Insn } from "./bpf.ts";

export interface SeccompData {
  nr: number;
  arch: number;
  instructionPointer?: bigint;
  /** Up to six u64 arguments; missing ones are 0. */
  args?: readonly (bigint | number)[];
}

export function seccompDataBytes(d: SeccompData): Uint8Array {
  const buf = new Uint8Array(64);
  const view = new DataView(buf.buffer);
  view.setUint32(0, d.nr >>> 0, true);
  view.setUint32(4, d.arch >>> 0, true);
  view.setBigUint64(8, d.instructionPointer ?? 0n, true);
  for (let i = 0; i < 6; i++) view.setBigUint64(16 + 8 * i, BigInt.asUintN(64, BigInt(d.args?.[i] ?? 0)), true);
  return buf;
}

export interface RunResult {
  action: number;
  /** Instructions executed, for cost assertions. */
  steps: number;
}

export function runFilter(program: Uint8Array | readonly Insn[], data: SeccompData): RunResult {
  const insns = program instanceof Uint8Array ? decodeProgram(program) : program;
  const mem = new DataView(seccompDataBytes(data).buffer);
  let a = 0;
  let pc = 0;
  let steps = 0;
  while (true) {
    const ins = insns[pc];
    if (!ins) throw new Error(`BPF: fell off the program at ${pc}`);
    steps++;
    const next = (off: number) => {
      pc = pc + 1 + off;
      if (pc >= insns.length) throw new Error(`BPF: jump out of range to ${pc}`);
    };
    switch (ins.code) {
      case BPF_LD | BPF_W | BPF_ABS:
        if (ins.k % 4 !== 0 || ins.k + 4 > 64) throw new Error(`BPF: bad load offset ${ins.k}`);
        a = mem.getUint32(ins.k, true);
        pc++;
        break;
      case BPF_ALU | BPF_AND | BPF_K:
        a = (a & ins.k) >>> 0;
        pc++;
        break;
      case BPF_JMP | BPF_JA:
        next(ins.k);
        break;
      case BPF_JMP | BPF_JEQ | BPF_K:
        next(a === ins.k ? ins.jt : ins.jf);
        break;
      case BPF_JMP | BPF_JGT | BPF_K:
        next(a > ins.k ? ins.jt : ins.jf);
        break;
      case BPF_JMP | BPF_JGE | BPF_K:
        next(a >= ins.k ? ins.jt : ins.jf);
        break;
      case BPF_JMP | BPF_JSET | BPF_K:
        next((a & ins.k) !== 0 ? ins.jt : ins.jf);
        break;
      case BPF_RET | BPF_K:
        return { action: ins.k >>> 0, steps };
      default:
        throw new Error(`BPF: unsupported opcode 0x${ins.code.toString(16)} at ${pc}`);
    }
  }
}
