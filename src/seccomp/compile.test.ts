import { describe, expect, test } from "bun:test";
import { ConfigError } from "../errors.ts";
import { SECCOMP_FILTER_FLAG_NEW_LISTENER } from "./actions.ts";
import { x86_64Syscalls } from "./arch/x86_64.ts";
import { aarch64Syscalls } from "./arch/aarch64.ts";
import { decodeProgram } from "./bpf.ts";
import { compileSeccomp, type CompileOptions } from "./compile.ts";
import { parseSeccompProfile } from "./profile-schema.ts";
import { verdict } from "./test-helpers.ts";

const compile = (raw: unknown, opts: Partial<CompileOptions> = {}) =>
  compileSeccomp(parseSeccompProfile(raw), { arch: "x64", capabilities: [], ...opts });

function names(table: Readonly<Record<string, number>>): string[] {
  return Object.keys(table).sort((a, b) => table[a]! - table[b]!);
}

describe("large profiles", () => {
  test("350 allowed syscalls: every listed one allowed, unlisted ones denied", () => {
    const all = names(x86_64Syscalls());
    const denied = new Set(["mount", "unshare", "ptrace", "kexec_load", "reboot", "bpf", "keyctl"]);
    const listed = all.filter((n) => !denied.has(n)).filter((_, i) => i % 37 !== 5).slice(0, 350);
    expect(listed.length).toBe(350);
    const r = compile({ defaultAction: "SCMP_ACT_ERRNO", syscalls: [{ names: listed, action: "SCMP_ACT_ALLOW" }] });
    for (const n of listed) expect(`${n}: ${verdict(r.filter, "x86_64", n)}`).toBe(`${n}: ALLOW`);
    for (const n of all.filter((x) => !listed.includes(x))) expect(verdict(r.filter, "x86_64", n)).not.toBe("ALLOW");
    expect(r.skipped).toEqual([]);
  });

  test("one distinct action per syscall (no merging) still fits: long branches go through JA", () => {
    const all = names(aarch64Syscalls());
    const syscalls = all.map((n, i) => ({ names: [n], action: "SCMP_ACT_ERRNO", errnoRet: 100 + i }));
    const r = compile({ defaultAction: "SCMP_ACT_ALLOW", syscalls }, { arch: "arm64" });
    const prog = decodeProgram(r.filter);
    expect(prog.some((i) => i.code === 0x05)).toBe(true); // BPF_JMP|BPF_JA
    all.forEach((n, i) => expect(verdict(r.filter, "aarch64", n)).toBe(`ERRNO(${100 + i})`));
  });

  test("argument rules on every syscall (big bodies) keep every jump in range", () => {
    const all = names(x86_64Syscalls()).slice(0, 120);
    const syscalls = all.map((n, i) => ({
      names: [n],
      action: "SCMP_ACT_ALLOW",
      args: [
        { index: 0, value: i, op: "SCMP_CMP_EQ" },
        { index: 1, value: 0xffff, valueTwo: 0x10, op: "SCMP_CMP_MASKED_EQ" },
      ],
    }));
    const r = compile({ defaultAction: "SCMP_ACT_KILL_PROCESS", syscalls });
    expect(r.instructions).toBeGreaterThan(1000);
    all.forEach((n, i) => {
      expect(verdict(r.filter, "x86_64", n, [i, 0x30010])).toBe("ALLOW");
      expect(verdict(r.filter, "x86_64", n, [i + 1, 0x30010])).toBe("KILL_PROCESS");
      expect(verdict(r.filter, "x86_64", n, [i, 0x11])).toBe("KILL_PROCESS");
    });
  });

  test("a filter over the kernel's 4096 instructions is refused", () => {
    const all = names(x86_64Syscalls());
    const syscalls = all.map((n, i) => ({
      names: [n],
      action: "SCMP_ACT_ALLOW",
      args: [0, 1, 2, 3, 4, 5].map((index) => ({ index, value: i + 0x100000000 * index, op: "SCMP_CMP_GE" })),
    }));
    expect(() => compile({ defaultAction: "SCMP_ACT_ERRNO", syscalls })).toThrow(/kernel allows 4096/);
  });
});

describe("actions and precedence", () => {
  test("every action kind in one filter", () => {
    const r = compile({
      defaultAction: "SCMP_ACT_ALLOW",
      listenerPath: "/run/agent.sock",
      syscalls: [
        { names: ["mount"], action: "SCMP_ACT_ERRNO" },
        { names: ["umount2"], action: "SCMP_ACT_ERRNO", errnoRet: 13 },
        { names: ["reboot"], action: "SCMP_ACT_KILL" },
        { names: ["kexec_load"], action: "SCMP_ACT_KILL_THREAD" },
        { names: ["init_module"], action: "SCMP_ACT_KILL_PROCESS" },
        { names: ["ptrace"], action: "SCMP_ACT_TRAP" },
        { names: ["bpf"], action: "SCMP_ACT_TRACE", errnoRet: 7 },
        { names: ["perf_event_open"], action: "SCMP_ACT_TRACE" },
        { names: ["chroot"], action: "SCMP_ACT_LOG" },
        { names: ["mkdir"], action: "SCMP_ACT_NOTIFY" },
      ],
    });
    const f = r.filter;
    expect(verdict(f, "x86_64", "mount")).toBe("ERRNO(1)");
    expect(verdict(f, "x86_64", "umount2")).toBe("ERRNO(13)");
    expect(verdict(f, "x86_64", "reboot")).toBe("KILL_THREAD");
    expect(verdict(f, "x86_64", "kexec_load")).toBe("KILL_THREAD");
    expect(verdict(f, "x86_64", "init_module")).toBe("KILL_PROCESS");
    expect(verdict(f, "x86_64", "ptrace")).toBe("TRAP");
    expect(verdict(f, "x86_64", "bpf")).toBe("TRACE(7)");
    expect(verdict(f, "x86_64", "perf_event_open")).toBe("TRACE(1)");
    expect(verdict(f, "x86_64", "chroot")).toBe("LOG");
    expect(verdict(f, "x86_64", "mkdir")).toBe("NOTIFY");
    expect(verdict(f, "x86_64", "read")).toBe("ALLOW");
    expect(r.needsListener).toBe(true);
    expect(r.flags & SECCOMP_FILTER_FLAG_NEW_LISTENER).toBe(SECCOMP_FILTER_FLAG_NEW_LISTENER);
  });

  test("defaultErrnoRet sets the default errno", () => {
    const r = compile({ defaultAction: "SCMP_ACT_ERRNO", defaultErrnoRet: 38, syscalls: [] });
    expect(verdict(r.filter, "x86_64", "read")).toBe("ERRNO(38)");
  });

  test("conditional rules run before the unconditional rule of the same syscall", () => {
    const r = compile({
      defaultAction: "SCMP_ACT_ERRNO",
      syscalls: [
        { names: ["socket"], action: "SCMP_ACT_ALLOW" },
        { names: ["socket"], action: "SCMP_ACT_ERRNO", errnoRet: 97, args: [{ index: 0, value: 16, op: "SCMP_CMP_EQ" }] },
      ],
    });
    expect(verdict(r.filter, "x86_64", "socket", [16])).toBe("ERRNO(97)");
    expect(verdict(r.filter, "x86_64", "socket", [2])).toBe("ALLOW");
  });

  test("when several conditional rules match, the most restrictive action wins whatever the order", () => {
    const rules = [
      { names: ["ioctl"], action: "SCMP_ACT_ALLOW", args: [{ index: 1, value: 0x5401, op: "SCMP_CMP_EQ" }] },
      { names: ["ioctl"], action: "SCMP_ACT_KILL_PROCESS", args: [{ index: 0, value: 100, op: "SCMP_CMP_GE" }] },
      { names: ["ioctl"], action: "SCMP_ACT_ERRNO", args: [{ index: 0, value: 10, op: "SCMP_CMP_GE" }] },
    ];
    for (const syscalls of [rules, [...rules].reverse()]) {
      const f = compile({ defaultAction: "SCMP_ACT_LOG", syscalls }).filter;
      expect(verdict(f, "x86_64", "ioctl", [200, 0x5401])).toBe("KILL_PROCESS");
      expect(verdict(f, "x86_64", "ioctl", [20, 0x5401])).toBe("ERRNO(1)");
      expect(verdict(f, "x86_64", "ioctl", [1, 0x5401])).toBe("ALLOW");
      expect(verdict(f, "x86_64", "ioctl", [1, 0])).toBe("LOG");
    }
  });

  test("two unconditional rules for one syscall: the more restrictive wins, with a log line", () => {
    const lines: string[] = [];
    const r = compile(
      {
        defaultAction: "SCMP_ACT_ALLOW",
        syscalls: [
          { names: ["mount"], action: "SCMP_ACT_ALLOW" },
          { names: ["mount"], action: "SCMP_ACT_ERRNO" },
        ],
      },
      { log: (m) => lines.push(m) },
    );
    expect(verdict(r.filter, "x86_64", "mount")).toBe("ERRNO(1)");
    expect(lines.join("\n")).toContain("conflicting actions");
  });

  test("filter flags come back as a bitmask", () => {
    const r = compile({ defaultAction: "SCMP_ACT_ALLOW", flags: ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_TSYNC"] });
    expect(r.flags).toBe(2 | 4 | 1);
  });

  test("SCMP_ACT_NOTIFY on a kernel without user notification is an error at the rule", () => {
    const raw = { defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["read"], action: "SCMP_ACT_ALLOW" }, { names: ["mkdir"], action: "SCMP_ACT_NOTIFY" }] };
    expect(() => compile(raw, { notifySupported: false })).toThrow("linux.seccomp.syscalls[1].action");
  });
});

describe("unknown names and architectures", () => {
  test("unknown names are skipped and never widen an allow-list", () => {
    const lines: string[] = [];
    const r = compile(
      { defaultAction: "SCMP_ACT_ERRNO", syscalls: [{ names: ["no_such_call", "read"], action: "SCMP_ACT_ALLOW" }] },
      { log: (m) => lines.push(m) },
    );
    expect(r.skipped).toEqual(["no_such_call (SCMP_ARCH_X86_64)"]);
    expect(lines[0]).toContain('"no_such_call"');
    expect(verdict(r.filter, "x86_64", "read")).toBe("ALLOW");
    for (let n = 0; n < 470; n++) if (n !== 0) expect(verdict(r.filter, "x86_64", n)).not.toBe("ALLOW");
  });

  test("an unknown name in a deny rule is skipped; the known ones are still denied", () => {
    const r = compile({ defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["mount", "toString", "constructor"], action: "SCMP_ACT_ERRNO" }] });
    expect(verdict(r.filter, "x86_64", "mount")).toBe("ERRNO(1)");
    expect(r.skipped).toEqual(["toString (SCMP_ARCH_X86_64)", "constructor (SCMP_ARCH_X86_64)"]);
  });

  test("x32 calls are killed unless the profile lists SCMP_ARCH_X32", () => {
    const without = compile({ defaultAction: "SCMP_ACT_ALLOW", syscalls: [] });
    expect(verdict(without.filter, "x32", "read")).toBe("KILL_THREAD");
    const withX32 = compile({ defaultAction: "SCMP_ACT_ALLOW", architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X32"], syscalls: [{ names: ["mount"], action: "SCMP_ACT_ERRNO" }] });
    expect(verdict(withX32.filter, "x32", "read")).toBe("ALLOW");
    expect(verdict(withX32.filter, "x32", "mount")).toBe("ERRNO(1)");
    expect(verdict(withX32.filter, "x86_64", "mount")).toBe("ERRNO(1)");
  });

  test("i386 is killed when the profile does not list SCMP_ARCH_X86", () => {
    const r = compile({ defaultAction: "SCMP_ACT_ALLOW", architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_AARCH64"] });
    expect(verdict(r.filter, "i386", "read")).toBe("KILL_THREAD");
    expect(verdict(r.filter, "x86_64", "read")).toBe("ALLOW");
  });

  test("the native arch is always covered, even if `architectures` omits it", () => {
    const r = compile({ defaultAction: "SCMP_ACT_ALLOW", architectures: ["SCMP_ARCH_X86"], syscalls: [{ names: ["mount"], action: "SCMP_ACT_ERRNO" }] });
    expect(verdict(r.filter, "x86_64", "mount")).toBe("ERRNO(1)");
    expect(verdict(r.filter, "i386", "mount")).toBe("ERRNO(1)");
  });

  test("Docker includes/excludes gate on caps, GOARCH and kernel", () => {
    const raw = {
      defaultAction: "SCMP_ACT_ERRNO",
      syscalls: [
        { names: ["mount"], action: "SCMP_ACT_ALLOW", includes: { caps: ["CAP_SYS_ADMIN", "CAP_NET_ADMIN"] } },
        { names: ["arch_prctl"], action: "SCMP_ACT_ALLOW", includes: { arches: ["amd64"] } },
        { names: ["getpid"], action: "SCMP_ACT_ALLOW", excludes: { arches: ["amd64"] } },
        { names: ["gettid"], action: "SCMP_ACT_ALLOW", excludes: { minKernel: "5.10" } },
        { names: ["getppid"], action: "SCMP_ACT_ALLOW", includes: { minKernel: "5.10" } },
      ],
    };
    const a = compile(raw, { capabilities: ["CAP_SYS_ADMIN"], kernel: [5, 4], enosysForNewSyscalls: false }).filter;
    expect(verdict(a, "x86_64", "mount")).toBe("ERRNO(1)");
    expect(verdict(a, "x86_64", "arch_prctl")).toBe("ALLOW");
    expect(verdict(a, "x86_64", "getpid")).toBe("ERRNO(1)");
    expect(verdict(a, "x86_64", "gettid")).toBe("ALLOW");
    expect(verdict(a, "x86_64", "getppid")).toBe("ERRNO(1)");
    const b = compile(raw, { capabilities: ["CAP_SYS_ADMIN", "CAP_NET_ADMIN"], kernel: [5, 10], enosysForNewSyscalls: false }).filter;
    expect(verdict(b, "x86_64", "mount")).toBe("ALLOW");
    expect(verdict(b, "x86_64", "gettid")).toBe("ERRNO(1)");
    expect(verdict(b, "x86_64", "getppid")).toBe("ALLOW");
    const arm = compile(raw, { arch: "arm64" }).filter;
    expect(verdict(arm, "aarch64", "getpid")).toBe("ALLOW");
  });

  test("archMap picks the entry of the native arch", () => {
    const raw = {
      defaultAction: "SCMP_ACT_ALLOW",
      archMap: [
        { architecture: "SCMP_ARCH_X86_64", subArchitectures: ["SCMP_ARCH_X86"] },
        { architecture: "SCMP_ARCH_AARCH64", subArchitectures: ["SCMP_ARCH_ARM"] },
      ],
    };
    const x = compile(raw).filter;
    expect(verdict(x, "i386", "read")).toBe("ALLOW");
    expect(verdict(x, "x32", "read")).toBe("KILL_THREAD");
    const a = compile(raw, { arch: "arm64" }).filter;
    expect(verdict(a, "arm", "read")).toBe("ALLOW");
  });

  test("compiling the same inputs twice gives the same bytes", () => {
    const raw = { defaultAction: "SCMP_ACT_ERRNO", syscalls: [{ names: ["read", "write"], action: "SCMP_ACT_ALLOW" }] };
    expect(compile(raw).filter).toEqual(compile(raw).filter);
  });

  test("an unsupported host arch is a ConfigError", () => {
    expect(() => compile({ defaultAction: "SCMP_ACT_ALLOW" }, { arch: "riscv64" as never })).toThrow(ConfigError);
  });
});
