/**
 * Classic BPF as seccomp accepts it: struct sock_filter { u16 code; u8 jt; u8 jf; u32 k },
 * encoded little endian (x86_64 and aarch64 are both little endian).
 */
export const BPF_LD = 0x00;
export const BPF_JMP = 0x05;
export const BPF_RET = 0x06;
export const BPF_ALU = 0x04;
export const BPF_W = 0x00;
export const BPF_ABS = 0x20;
export const BPF_K = 0x00;
export const BPF_JA = 0x00;
export const BPF_JEQ = 0x10;
export const BPF_JGT = 0x20;
export const BPF_JGE = 0x30;
export const BPF_JSET = 0x40;
export const BPF_AND = 0x50;

/** The kernel refuses programs longer than this (BPF_MAXINSNS). */
export const BPF_MAXINSNS = 4096;

export interface Insn {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

/** Offsets into struct seccomp_data. */
export const SECCOMP_DATA_NR = 0;
export const SECCOMP_DATA_ARCH = 4;
export const SECCOMP_DATA_IP = 8;
/** args[i] is a u64 at 16 + 8*i; on little endian the low word comes first. */
export function argLoOffset(index: number): number {
  return 16 + 8 * index;
}
export function argHiOffset(index: number): number {
  return 20 + 8 * index;
}

export const ldAbs = (offset: number): Insn => ({ code: BPF_LD | BPF_W | BPF_ABS, jt: 0, jf: 0, k: offset });
export const ret = (k: number): Insn => ({ code: BPF_RET | BPF_K, jt: 0, jf: 0, k: k >>> 0 });
export const ja = (offset: number): Insn => ({ code: BPF_JMP | BPF_JA, jt: 0, jf: 0, k: offset >>> 0 });
export const andK = (k: number): Insn => ({ code: BPF_ALU | BPF_AND | BPF_K, jt: 0, jf: 0, k: k >>> 0 });
export const jmp = (op: number, k: number, jt: number, jf: number): Insn => ({
  code: BPF_JMP | op | BPF_K,
  jt,
  jf,
  k: k >>> 0,
});

/** Serialises a program; throws if a jump offset does not fit (a compiler bug, never user input). */
export function encodeProgram(insns: readonly Insn[]): Uint8Array {
  const out = new Uint8Array(insns.length * 8);
  const view = new DataView(out.buffer);
  insns.forEach((ins, i) => {
    if (ins.jt > 255 || ins.jf > 255 || ins.jt < 0 || ins.jf < 0) {
      throw new Error(`BPF jump offset out of range at instruction ${i}: jt=${ins.jt} jf=${ins.jf}`);
    }
    view.setUint16(i * 8, ins.code, true);
    view.setUint8(i * 8 + 2, ins.jt);
    view.setUint8(i * 8 + 3, ins.jf);
    view.setUint32(i * 8 + 4, ins.k >>> 0, true);
  });
  return out;
}

export function decodeProgram(bytes: Uint8Array): Insn[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const insns: Insn[] = [];
  for (let off = 0; off + 8 <= bytes.byteLength; off += 8) {
    insns.push({
      code: view.getUint16(off, true),
      jt: view.getUint8(off + 2),
      jf: view.getUint8(off + 3),
      k: view.getUint32(off + 4, true),
    });
  }
  return insns;
}
