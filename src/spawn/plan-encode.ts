/**
 * The launch plan as the trampoline reads it (ffi/trampoline/trampoline.c).
 *
 *   header (10 × u32) | ops (n × 72 bytes) | relocations (u32 blob offsets) | blob
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
export const PLAN_VERSION = 2;
const HEADER = 40;
/** header word 8: the runtime's pid, set by setRuntimePid() just before the plan is sent (plans are cached) */
const RUNTIME_PID_WORD = 8;
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
  SUPERVISE: 16,
  INIT: 17,
  /** READY whose GO carries one fd (SCM_RIGHTS), kept in the op's slot */
  READY_FD: 18,
} as const;

export const TAG_PTR = 1n << 63n;
export const TAG_SLOT = 1n << 62n;
const F_IGNORE_ERRNO = 1;

/** An argument: a number, a blob pointer or a slot reference. */
export type Arg = number | bigint | { ptr: number } | { slot: number };

/** An op in the plan being built (a handle for label targets). */
export type PlanOp = { readonly at: number };

/** A label: an op index fixed up when the plan is finished. */
export type Label = { at: number };

const encoder = new TextEncoder();
const OP_WORDS = OP_SIZE / 4;

/**
 * Builds a plan straight into typed arrays: this code runs once per
 * container start, cold (interpreted), so it avoids per-op objects, BigInt
 * and DataView calls.
 */
export class PlanBuilder {
  readonly steps: string[] = [];
  #ops = new Uint32Array(OP_WORDS * 256);
  #nOps = 0;
  #bytes = new Uint8Array(8192);
  #words = new Uint32Array(this.#bytes.buffer);
  /** the blob's first 8 bytes stay zero: offset 0 would read as NULL (the trampoline relocates non-zero words only) */
  #len = 8;
  #relocs: number[] = [];
  #slots = 0;
  #stepIndex = new Map<string, number>();
  #labelRefs: { at: number; arg: number; label: Label }[] = [];
  #current = 0;

  get opCount(): number {
    return this.#nOps;
  }

  /** A step description; ops added until the next call carry it. */
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
    this.#words = new Uint32Array(next.buffer);
  }

  #align8(): void {
    this.#len = (this.#len + 7) & ~7;
    this.#ensure(0);
  }

  /** Raw bytes in the blob (8-byte aligned). */
  bytes(data: Uint8Array): { ptr: number } {
    this.#align8();
    this.#ensure(data.length);
    const off = this.#len;
    this.#bytes.set(data, off);
    this.#len += data.length;
    return { ptr: off };
  }

  /** A NUL-terminated string. */
  str(s: string): { ptr: number } {
    if (s.includes("\0")) throw new Error(`String contains a NUL byte: ${JSON.stringify(s)}`);
    this.#align8();
    this.#ensure(s.length * 3 + 1);
    const off = this.#len;
    const { written } = encoder.encodeInto(s, this.#bytes.subarray(off));
    this.#bytes[off + written] = 0;
    this.#len += written + 1;
    return { ptr: off };
  }

  /** A NULL-terminated array of pointers (argv, envp). */
  ptrArray(items: { ptr: number }[]): { ptr: number } {
    return this.words([...items, 0]);
  }

  /** A struct of u64 words where some words are blob pointers (relocated). */
  words(values: (number | bigint | { ptr: number })[]): { ptr: number } {
    this.#align8();
    this.#ensure(values.length * 8);
    const off = this.#len;
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (typeof v === "object") {
        putU64(this.#words, (off >> 2) + i * 2, v.ptr, 0);
        this.#relocs.push(off + i * 8);
      } else putU64(this.#words, (off >> 2) + i * 2, v, 0);
    }
    this.#len += values.length * 8;
    return { ptr: off };
  }

  op(code: number, a: Arg[] = [], o: { nr?: number; slot?: { slot: number }; okErrno?: number | "any" } = {}): PlanOp {
    return this.#op(code, a, o.nr ?? 0, o.slot, o.okErrno);
  }

  #op(code: number, a: Arg[], nr: number, slot: { slot: number } | undefined, okErrno: number | "any" | undefined): PlanOp {
    if ((this.#nOps + 1) * OP_WORDS > this.#ops.length) {
      const next = new Uint32Array(this.#ops.length * 2);
      next.set(this.#ops);
      this.#ops = next;
    }
    const w = this.#ops;
    const b = this.#nOps * OP_WORDS;
    w[b] = code;
    w[b + 1] = nr;
    w[b + 2] = okErrno === undefined ? 0 : F_IGNORE_ERRNO;
    w[b + 3] = okErrno === undefined || okErrno === "any" ? 0 : okErrno;
    w[b + 4] = slot === undefined ? 0xffffffff : slot.slot;
    w[b + 5] = this.#current;
    for (let j = 0; j < 6; j++) {
      const x = j < a.length ? a[j]! : 0;
      if (typeof x === "object") {
        if ("ptr" in x) putU64(w, b + 6 + j * 2, x.ptr, 0x80000000);
        else putU64(w, b + 6 + j * 2, x.slot, 0x40000000);
      } else {
        putU64(w, b + 6 + j * 2, x, 0);
        // both tag bits set is a negative number (AT_FDCWD); exactly one would read as a pointer or slot
        const tags = w[b + 7 + j * 2]! & 0xc0000000;
        if (tags === 0x80000000 || tags === 0x40000000) throw new Error(`Plan argument ${x} collides with a pointer or slot tag`);
      }
    }
    return { at: this.#nOps++ };
  }

  /** A system call; `slot` keeps its result (an fd) for later ops. */
  sys(nr: number, args: Arg[], o: { slot?: { slot: number }; okErrno?: number | "any" } = {}): PlanOp {
    return this.#op(Op.SYSCALL, args, nr, o.slot, o.okErrno);
  }

  label(): Label {
    return { at: -1 };
  }

  here(l: Label): void {
    l.at = this.#nOps;
  }

  /** Refer to a label in argument `arg` of `op`; resolved by finish(). */
  target(op: PlanOp, arg: number, l: Label): void {
    this.#labelRefs.push({ at: op.at, arg, label: l });
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
      putU64(this.#ops, r.at * OP_WORDS + 6 + r.arg * 2, r.label.at, 0);
    }
    if (this.#slots > 1024) throw new Error(`Plan needs ${this.#slots} fd slots; the trampoline has 1024`);
    const opsBytes = this.#nOps * OP_SIZE;
    const relocOff = HEADER + opsBytes;
    const blobOff = relocOff + Math.ceil((this.#relocs.length * 4) / 8) * 8;
    const out = new Uint8Array(blobOff + this.#len);
    const u32 = new Uint32Array(out.buffer, 0, blobOff / 4);
    u32.set([PLAN_MAGIC, PLAN_VERSION, this.#nOps, blobOff, this.#len, this.#relocs.length, relocOff, this.#slots, 0, 0]);
    u32.set(this.#ops.subarray(0, this.#nOps * OP_WORDS), HEADER / 4);
    u32.set(this.#relocs, relocOff / 4);
    out.set(this.#bytes.subarray(0, this.#len), blobOff);
    return out;
  }
}

/** Writes the runtime's pid into a finished plan (OP_DEATHSIG with a[1] = 1 checks the parent against it). */
export function setRuntimePid(plan: Uint8Array, pid: number): void {
  new DataView(plan.buffer, plan.byteOffset, plan.byteLength).setUint32(RUNTIME_PID_WORD * 4, pid, true);
}

/** A u64 as two little-endian u32 words; `tagHi` ORs the tag bits (pointer, slot) into the high word. */
function putU64(w: Uint32Array, i: number, v: number | bigint, tagHi: number): void {
  if (typeof v === "bigint") {
    const u = BigInt.asUintN(64, v);
    w[i] = Number(u & 0xffffffffn);
    w[i + 1] = (Number(u >> 32n) | tagHi) >>> 0;
    return;
  }
  w[i] = v >>> 0;
  w[i + 1] = ((v < 0 ? Math.floor(v / 4294967296) >>> 0 : Math.floor(v / 4294967296)) | tagHi) >>> 0;
}
