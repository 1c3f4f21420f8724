/**
 * Every comparison operator against a BigInt reference, on 64-bit (x86_64) and 32-bit (i386)
 * ABIs, with values whose high halves are non-zero, equal, or differ only in the low half.
 */
import { describe, expect, test } from "bun:test";
import { SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO } from "./actions.ts";
import { AUDIT_ARCH_I386, AUDIT_ARCH_X86_64 } from "./arch/index.ts";
import { runFilter } from "./bpf-interp.ts";
import { compileSeccomp } from "./compile.ts";
import { OPERATORS, parseSeccompProfile, type Operator } from "./profile-schema.ts";

const M64 = (1n << 64n) - 1n;
const EDGE64 = [
  0n, 1n, 2n, 0x7fffffffn, 0x80000000n, 0xfffffffen, 0xffffffffn, 0x100000000n, 0x100000001n,
  0x5_00000007n, 0x5_00000006n, 0x5_00000008n, 0x4_ffffffffn, 0x6_00000000n,
  0x7fffffff_ffffffffn, 0x80000000_00000000n, 0xffffffff_00000000n, 0xffffffff_fffffffen, M64,
];
const EDGE32 = EDGE64.filter((x) => x <= 0xffffffffn);

function reference(op: Operator, arg: bigint, value: bigint, valueTwo: bigint): boolean {
  switch (op) {
    case "SCMP_CMP_EQ":
      return arg === value;
    case "SCMP_CMP_NE":
      return arg !== value;
    case "SCMP_CMP_LT":
      return arg < value;
    case "SCMP_CMP_LE":
      return arg <= value;
    case "SCMP_CMP_GT":
      return arg > value;
    case "SCMP_CMP_GE":
      return arg >= value;
    case "SCMP_CMP_MASKED_EQ":
      return (arg & value) === valueTwo;
  }
}

function filterFor(op: Operator, index: number, value: bigint, valueTwo: bigint) {
  const profile = parseSeccompProfile({
    defaultAction: "SCMP_ACT_ERRNO",
    architectures: ["SCMP_ARCH_X86"],
    syscalls: [{ names: ["ioctl"], action: "SCMP_ACT_ALLOW", args: [{ index, value, valueTwo, op }] }],
  });
  return compileSeccomp(profile, { arch: "x64", capabilities: [] }).filter;
}

describe("argument comparisons", () => {
  for (const op of OPERATORS) {
    test(`${op} on 64-bit arguments (x86_64)`, () => {
      const values = op === "SCMP_CMP_MASKED_EQ" ? [0xffffffff_00000000n, 0x0000000f_0000000fn, M64, 0x80000000n] : EDGE64;
      for (const value of values) {
        const datums = op === "SCMP_CMP_MASKED_EQ" ? [0n, value, value & 0x0000000f_00000000n, value & 0xffffffffn] : [0n];
        for (const valueTwo of datums) {
          const index = Number(value % 6n);
          const filter = filterFor(op, index, value, valueTwo);
          for (const arg of EDGE64) {
            const args = [0n, 0n, 0n, 0n, 0n, 0n];
            args[index] = arg;
            const got = runFilter(filter, { nr: 16, arch: AUDIT_ARCH_X86_64, args }).action;
            const want = reference(op, arg, value, valueTwo) ? SECCOMP_RET_ALLOW : (SECCOMP_RET_ERRNO | 1) >>> 0;
            if (got !== want) throw new Error(`${op} arg=0x${arg.toString(16)} value=0x${value.toString(16)} valueTwo=0x${valueTwo.toString(16)}`);
          }
        }
      }
    });

    test(`${op} on 32-bit arguments (i386, zero-extended by the kernel)`, () => {
      for (const value of [...EDGE32, 0x1_00000000n, M64]) {
        const valueTwo = op === "SCMP_CMP_MASKED_EQ" ? value & 0xf0n : 0n;
        const filter = filterFor(op, 2, value, valueTwo);
        for (const arg of EDGE32) {
          const got = runFilter(filter, { nr: 54, arch: AUDIT_ARCH_I386, args: [0n, 0n, arg] }).action;
          const want = reference(op, arg, value, valueTwo) ? SECCOMP_RET_ALLOW : (SECCOMP_RET_ERRNO | 1) >>> 0;
          if (got !== want) throw new Error(`${op} arg=0x${arg.toString(16)} value=0x${value.toString(16)}`);
        }
      }
    });
  }

  test("MASKED_EQ whose datum has bits outside the mask never matches", () => {
    const filter = filterFor("SCMP_CMP_MASKED_EQ", 0, 0xf0n, 0x0fn);
    for (const arg of EDGE64) {
      expect(runFilter(filter, { nr: 16, arch: AUDIT_ARCH_X86_64, args: [arg] }).action).toBe((SECCOMP_RET_ERRNO | 1) >>> 0);
    }
  });

  test("several conditions in one rule must all hold (AND)", () => {
    const profile = parseSeccompProfile({
      defaultAction: "SCMP_ACT_ERRNO",
      syscalls: [
        {
          names: ["ioctl"],
          action: "SCMP_ACT_ALLOW",
          args: [
            { index: 0, value: 3, op: "SCMP_CMP_EQ" },
            { index: 1, value: "0x100000000", op: "SCMP_CMP_GE" },
          ],
        },
      ],
    });
    const { filter } = compileSeccomp(profile, { arch: "x64", capabilities: [] });
    const run = (a0: bigint, a1: bigint) => runFilter(filter, { nr: 16, arch: AUDIT_ARCH_X86_64, args: [a0, a1] }).action;
    expect(run(3n, 0x100000000n)).toBe(SECCOMP_RET_ALLOW);
    expect(run(3n, 0xffffffffn)).not.toBe(SECCOMP_RET_ALLOW);
    expect(run(4n, 0x100000000n)).not.toBe(SECCOMP_RET_ALLOW);
  });

  test("conditions on the same argument twice become alternatives (OR), as in runc", () => {
    const profile = parseSeccompProfile({
      defaultAction: "SCMP_ACT_ERRNO",
      syscalls: [
        {
          names: ["ioctl"],
          action: "SCMP_ACT_ALLOW",
          args: [
            { index: 0, value: 3, op: "SCMP_CMP_EQ" },
            { index: 0, value: 5, op: "SCMP_CMP_EQ" },
          ],
        },
      ],
    });
    const { filter } = compileSeccomp(profile, { arch: "x64", capabilities: [] });
    const run = (a0: bigint) => runFilter(filter, { nr: 16, arch: AUDIT_ARCH_X86_64, args: [a0] }).action;
    expect(run(3n)).toBe(SECCOMP_RET_ALLOW);
    expect(run(5n)).toBe(SECCOMP_RET_ALLOW);
    expect(run(4n)).toBe((SECCOMP_RET_ERRNO | 1) >>> 0);
  });
});
