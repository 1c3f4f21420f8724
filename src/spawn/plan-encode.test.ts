import { describe, expect, test } from "bun:test";
import { Op, PLAN_MAGIC, PLAN_VERSION, PlanBuilder, setRuntimePid, TAG_PTR, TAG_SLOT } from "./plan-encode.ts";

describe("PlanBuilder", () => {
  test("finish() writes the header, ops, relocations and blob the trampoline reads", () => {
    const b = new PlanBuilder();
    b.step("open a file");
    const s = b.slot();
    const path = b.str("/x");
    b.sys(257, [-100, path, 0, 0], { slot: s, okErrno: 2 });
    b.step("exec");
    const argv = b.ptrArray([b.str("a")]);
    b.op(Op.EXEC, [argv, s]);
    const out = b.finish();
    const dv = new DataView(out.buffer);
    expect(dv.getUint32(0, true)).toBe(PLAN_MAGIC);
    expect(dv.getUint32(4, true)).toBe(PLAN_VERSION);
    expect(dv.getUint32(8, true)).toBe(2); // ops
    const blobOff = dv.getUint32(12, true);
    expect(dv.getUint32(20, true)).toBe(1); // one relocation (the argv entry)
    expect(dv.getUint32(28, true)).toBe(1); // one slot
    expect(dv.getUint32(32, true)).toBe(0); // the runtime pid: set when the plan is sent
    setRuntimePid(out, 4242);
    expect(dv.getUint32(32, true)).toBe(4242);
    // op 0: SYSCALL openat, ok_errno ENOENT, slot 0, step 0
    expect([dv.getUint32(40, true), dv.getUint32(44, true), dv.getUint32(48, true), dv.getInt32(52, true), dv.getInt32(56, true), dv.getUint32(60, true)]).toEqual([1, 257, 1, 2, 0, 0]);
    expect(dv.getBigUint64(64, true)).toBe(BigInt.asUintN(64, -100n));
    expect(dv.getBigUint64(72, true)).toBe(TAG_PTR | 8n);
    // op 1: EXEC with a slot reference, step 1
    expect(dv.getUint32(40 + 72, true)).toBe(Op.EXEC);
    expect(dv.getUint32(40 + 72 + 20, true)).toBe(1);
    expect(dv.getBigUint64(40 + 72 + 24 + 8, true)).toBe(TAG_SLOT | 0n);
    // the blob starts with 8 reserved zero bytes: no pointer may have offset 0 (it would read as NULL)
    expect(new TextDecoder().decode(out.subarray(blobOff + 8, blobOff + 10))).toBe("/x");
    expect(b.steps).toEqual(["open a file", "exec"]);
  });

  test("labels resolve to op indices", () => {
    const b = new PlanBuilder();
    const l = b.label();
    b.jump(l);
    b.op(Op.EXIT, [1]);
    b.here(l);
    b.op(Op.EXIT, [0]);
    const out = b.finish();
    expect(new DataView(out.buffer).getBigUint64(40 + 24 + 8, true)).toBe(2n);
  });

  test("an unplaced label is an error", () => {
    const b = new PlanBuilder();
    b.jump(b.label());
    expect(() => b.finish()).toThrow("never placed");
  });

  test("strings with NUL bytes are refused", () => {
    expect(() => new PlanBuilder().str("a\0b")).toThrow("NUL");
  });
});
