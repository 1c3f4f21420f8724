/**
 * The launch plan as the trampoline reads it (ffi/trampoline/trampoline.c).
 *
 *   header (8 × u32) | ops (n × 72 bytes) | relocations (u32 blob offsets) | blob
 *
 * An op is {code, nr, flags, ok_errno, slot, step, a[6]}. An argument is a
 * plain number, a pointer into the blob (TAG_PTR | offset, relocated by the
 * trampoline), or the fd an earlier op stored in a slot (TAG_SLOT | index).
 * A number with both tag bits set is a negative number (AT_FDCWD); one with
 * exactly one of them set cannot be passed.
 * Pointer arrays inside the blob (argv, envp, iovecs) are listed in the
 * relocation table. Every op names a step: a human sentence ("mount proc at
 * /proc") that turns a {step, errno} failure into one clear error.
 */

export const PLAN_MAGIC = 0x534c4750;
export const PLAN_VERSION = 1;
const HEADER = 32;
const OP_SIZE = 72;

export const Op = {
  SYSCALL: 1,
  READY: 2,
  CLONE: 3,
  REPORT_PID: 4,
  WAIT_CHILD: 5,
  EXIT: 6,
  RESET_SIGNALS: 7,
  EXEC: 8,
  CLOSE_SYNC: 9,
  JUMP: 10,
  WAIT_FD: 11,
  DEATHSIG: 12,
  FORK_WAIT: 13,
  SEND_FD: 14,
  MOVE_SYNC: 15,
  /** READY whose GO carries one fd (SCM_RIGHTS), kept in the op's slot */
  READY_FD: 16,
} as const;

export const TAG_PTR = 1n << 63n;
export const TAG_SLOT = 1n << 62n;
const F_IGNORE_ERRNO = 1;

/** An argument: a number, a blob pointer or a slot reference. */
export type Arg = number | bigint | { ptr: number } | { slot: number };

export type PlanOp = {
  code: number;
  nr: number;
  flags: number;
  okErrno: number;
  slot: number;
  step: number;
  a: Arg[];
};

/** A label: an op index fixed up when the plan is finished. */
export type Label = { at: number };

export class PlanBuilder {
  readonly ops: PlanOp[] = [];
  readonly steps: string[] = [];
  #blob: number[] = [];
  #bytes = new Uint8Array(4096);
  #len = 0;
  #relocs: number[] = [];
  #slots = 0;
  #stepIndex = new Map<string, number>();
  #labelRefs: { op: PlanOp; arg: number; label: Label }[] = [];

  /** A step description; ops added until the next call carry it. */
  #current = 0;
  step(description: string): this {
    let i = this.#stepIndex.get(description);
    if (i === undefined) {
      i = this.steps.length;
      this.steps.push(description);
      this.#stepIndex.set(description, i);
    }
    this.#current = i;
    return this;
  }

  slot(): { slot: number } {
    return { slot: this.#slots++ };
  }

  #ensure(n: number): void {
    if (this.#len + n <= this.#bytes.length) return;
    let size = this.#bytes.length * 2;
    while (size < this.#len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#bytes.subarray(0, this.#len));
    this.#bytes = next;
  }

  #align(n: number): void {
    const pad = (n - (this.#len % n)) % n;
    this.#ensure(pad);
    this.#len += pad;
  }

  /** Raw bytes in the blob (8-byte aligned). */
  bytes(data: Uint8Array): { ptr: number } {
    this.#align(8);
    this.#ensure(data.length);
    const off = this.#len;
    this.#bytes.set(data, off);
    this.#len += data.length;
    return { ptr: off };
  }

  /** A NUL-terminated string. */
  str(s: string): { ptr: number } {
    const enc = Buffer.from(s, "utf8");
    if (enc.includes(0)) throw new Error(`String contains a NUL byte: ${JSON.stringify(s)}`);
    const b = new Uint8Array(enc.length + 1);
    b.set(enc);
    return this.bytes(b);
  }

  /** A NULL-terminated array of pointers (argv, envp). */
  ptrArray(items: { ptr: number }[]): { ptr: number } {
    this.#align(8);
    const off = this.#len;
    this.#ensure((items.length + 1) * 8);
    const dv = new DataView(this.#bytes.buffer);
    items.forEach((it, i) => {
      dv.setBigUint64(off + i * 8, BigInt(it.ptr), true);
      this.#relocs.push(off + i * 8);
    });
    dv.setBigUint64(off + items.length * 8, 0n, true);
    this.#len += (items.length + 1) * 8;
    return { ptr: off };
  }

  /** A struct of u64 words where some words are blob pointers (relocated). */
  words(values: (number | bigint | { ptr: number })[]): { ptr: number } {
    this.#align(8);
    const off = this.#len;
    this.#ensure(values.length * 8);
    const dv = new DataView(this.#bytes.buffer);
    values.forEach((v, i) => {
      if (typeof v === "object") {
        dv.setBigUint64(off + i * 8, BigInt(v.ptr), true);
        this.#relocs.push(off + i * 8);
      } else dv.setBigUint64(off + i * 8, BigInt.asUintN(64, BigInt(v)), true);
    });
    this.#len += values.length * 8;
    return { ptr: off };
  }

  op(code: number, a: Arg[] = [], o: { nr?: number; slot?: { slot: number }; okErrno?: number | "any" } = {}): PlanOp {
    const op: PlanOp = {
      code,
      nr: o.nr ?? 0,
      flags: o.okErrno === undefined ? 0 : F_IGNORE_ERRNO,
      okErrno: o.okErrno === undefined || o.okErrno === "any" ? 0 : o.okErrno,
      slot: o.slot?.slot ?? -1,
      step: this.#current,
      a,
    };
    this.ops.push(op);
    return op;
  }

  /** A system call; `slot` keeps its result (an fd) for later ops. */
  sys(nr: number, args: Arg[], o: { slot?: { slot: number }; okErrno?: number | "any" } = {}): PlanOp {
    return this.op(Op.SYSCALL, args, { ...o, nr });
  }

  label(): Label {
    return { at: -1 };
  }

  here(l: Label): void {
    l.at = this.ops.length;
  }

  /** Refer to a label in argument `arg` of `op`; resolved by finish(). */
  target(op: PlanOp, arg: number, l: Label): void {
    this.#labelRefs.push({ op, arg, label: l });
  }

  jump(l: Label, cond: "always" | "slot-ok" | "slot-failed" = "always", slot?: { slot: number }): void {
    const c = cond === "always" ? 0 : cond === "slot-ok" ? 1 : 2;
    const op = this.op(Op.JUMP, [slot?.slot ?? 0, 0, c]);
    this.target(op, 1, l);
  }

  /** Serialises the plan. */
  finish(): Uint8Array {
    for (const r of this.#labelRefs) {
      if (r.label.at < 0) throw new Error("Plan label used but never placed");
      r.op.a[r.arg] = r.label.at;
    }
    if (this.#slots > 1024) throw new Error(`Plan needs ${this.#slots} fd slots; the trampoline has 1024`);
    const opsBytes = this.ops.length * OP_SIZE;
    const relocOff = HEADER + opsBytes;
    const blobOff = relocOff + Math.ceil((this.#relocs.length * 4) / 8) * 8;
    const total = blobOff + this.#len;
    const out = new Uint8Array(total);
    const dv = new DataView(out.buffer);
    const hdr = [PLAN_MAGIC, PLAN_VERSION, this.ops.length, blobOff, this.#len, this.#relocs.length, relocOff, this.#slots];
    hdr.forEach((v, i) => dv.setUint32(i * 4, v, true));
    this.ops.forEach((op, i) => {
      const o = HEADER + i * OP_SIZE;
      dv.setUint32(o, op.code, true);
      dv.setUint32(o + 4, op.nr, true);
      dv.setUint32(o + 8, op.flags, true);
      dv.setInt32(o + 12, op.okErrno, true);
      dv.setInt32(o + 16, op.slot, true);
      dv.setUint32(o + 20, op.step, true);
      for (let j = 0; j < 6; j++) dv.setBigUint64(o + 24 + j * 8, encodeArg(op.a[j] ?? 0), true);
    });
    this.#relocs.forEach((r, i) => dv.setUint32(relocOff + i * 4, r, true));
    out.set(this.#bytes.subarray(0, this.#len), blobOff);
    return out;
  }
}

function encodeArg(a: Arg): bigint {
  if (typeof a === "number" || typeof a === "bigint") {
    const v = BigInt.asUintN(64, BigInt(a));
    const tags = v & (TAG_PTR | TAG_SLOT);
    if (tags === TAG_PTR || tags === TAG_SLOT) throw new Error(`Plan argument ${a} collides with a pointer or slot tag`);
    return v;
  }
  if ("ptr" in a) return TAG_PTR | BigInt(a.ptr);
  return TAG_SLOT | BigInt(a.slot);
}
