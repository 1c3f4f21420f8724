/**
 * Byte-exact expectations for tiny profiles, written by hand from the layout in README.md:
 * LD arch, one JEQ per section, RET bad-arch, then per section LD nr and a binary search over
 * syscall-number segments (JGE boundary → right half).
 */
import { describe, expect, test } from "bun:test";
import { SECCOMP_RET_ALLOW as ALLOW, SECCOMP_RET_ERRNO, SECCOMP_RET_KILL_PROCESS as KP } from "./actions.ts";
import { AUDIT_ARCH_AARCH64, AUDIT_ARCH_I386, AUDIT_ARCH_X86_64 } from "./arch/index.ts";
import { BPF_JEQ, BPF_JGE, decodeProgram, encodeProgram, jmp, ldAbs, ret, type Insn } from "./bpf.ts";
import { compileSeccomp } from "./compile.ts";
import { parseSeccompProfile } from "./profile-schema.ts";

const KT = 0; // SECCOMP_RET_KILL_THREAD, libseccomp's bad-arch action
const E = (errno: number) => (SECCOMP_RET_ERRNO | errno) >>> 0;
const jge = (k: number, jt: number, jf = 0) => jmp(BPF_JGE, k, jt, jf);
const jeq = (k: number, jt: number, jf = 0) => jmp(BPF_JEQ, k, jt, jf);
const LD_ARCH = ldAbs(4);
const LD_NR = ldAbs(0);

function compiled(raw: unknown, arch: "x64" | "arm64"): Insn[] {
  const r = compileSeccomp(parseSeccompProfile(raw), { arch, capabilities: [] });
  expect(r.instructions).toBe(r.filter.length / 8);
  return decodeProgram(r.filter);
}

describe("golden filters", () => {
  test("x86_64 deny-list with one rule, no x32 in the profile", () => {
    const got = compiled({ defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["mount"], action: "SCMP_ACT_ERRNO" }] }, "x64");
    const want: Insn[] = [
      LD_ARCH,
      jeq(AUDIT_ARCH_X86_64, 1),
      ret(KT),
      LD_NR,
      jge(166, 3),
      jge(165, 1),
      ret(ALLOW),
      ret(E(1)), // mount = 165 → ERRNO(EPERM), the default errno
      jge(0x40000000, 1),
      ret(ALLOW),
      jge(0xffffffff, 1),
      ret(KT), // x32 numbers: bad arch
      ret(ALLOW), // nr -1: default action
    ];
    expect(got).toEqual(want);
  });

  test("aarch64 allow-list with an argument condition and the ENOSYS stub", () => {
    const got = compiled(
      {
        defaultAction: "SCMP_ACT_ERRNO",
        defaultErrnoRet: 1,
        syscalls: [
          { names: ["read"], action: "SCMP_ACT_ALLOW" },
          { names: ["personality"], action: "SCMP_ACT_ALLOW", args: [{ index: 0, value: 8, op: "SCMP_CMP_EQ" }] },
        ],
      },
      "arm64",
    );
    const want: Insn[] = [
      LD_ARCH,
      jeq(AUDIT_ARCH_AARCH64, 1),
      ret(KT),
      LD_NR,
      jge(92, 5),
      jge(63, 1),
      ret(E(1)),
      jge(64, 1),
      ret(ALLOW), // read = 63
      ret(E(1)),
      jge(93, 6),
      ldAbs(20), // personality = 92: args[0] high half
      jeq(0, 0, 3),
      ldAbs(16), // low half
      jeq(8, 0, 1),
      ret(ALLOW),
      ret(E(1)),
      jge(0xffffffff, 1),
      ret(E(38)), // above the last named syscall: ENOSYS, as runc does
      ret(E(1)),
    ];
    expect(got).toEqual(want);
  });

  test("x86_64 + i386 sections", () => {
    const got = compiled(
      {
        defaultAction: "SCMP_ACT_KILL_PROCESS",
        architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
        syscalls: [{ names: ["getpid"], action: "SCMP_ACT_ALLOW" }],
      },
      "x64",
    );
    const want: Insn[] = [
      LD_ARCH,
      jeq(AUDIT_ARCH_X86_64, 2),
      jeq(AUDIT_ARCH_I386, 11),
      ret(KT),
      // x86_64: getpid = 39
      LD_NR,
      jge(40, 3),
      jge(39, 1),
      ret(KP),
      ret(ALLOW),
      jge(0x40000000, 1),
      ret(E(38)),
      jge(0xffffffff, 1),
      ret(KT),
      ret(KP),
      // i386: getpid = 20
      LD_NR,
      jge(21, 3),
      jge(20, 1),
      ret(KP),
      ret(ALLOW),
      jge(0xffffffff, 1),
      ret(E(38)),
      ret(KP),
    ];
    expect(got).toEqual(want);
  });

  test("encoding is struct sock_filter, little endian", () => {
    const bytes = encodeProgram([LD_ARCH, jeq(AUDIT_ARCH_X86_64, 1, 2), ret(ALLOW)]);
    expect([...bytes]).toEqual([
      0x20, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, // BPF_LD|BPF_W|BPF_ABS, k=4
      0x15, 0x00, 0x01, 0x02, 0x3e, 0x00, 0x00, 0xc0, // BPF_JMP|BPF_JEQ|BPF_K, jt=1, jf=2
      0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0x7f, // BPF_RET|BPF_K, SECCOMP_RET_ALLOW
    ]);
  });
});
