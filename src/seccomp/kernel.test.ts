/**
 * Cross-check with the real kernel: a tiny C loader installs the compiled filter in a forked
 * child (PR_SET_NO_NEW_PRIVS, no root needed) and performs one syscall per child; the kernel's
 * answer must match the BPF interpreter's. Skipped where there is no C compiler or no seccomp.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describeAction } from "./actions.ts";
import { AUDIT_ARCH_AARCH64, AUDIT_ARCH_I386, AUDIT_ARCH_X86_64 } from "./arch/index.ts";
import { runFilter } from "./bpf-interp.ts";
import { compileSeccomp } from "./compile.ts";
import { dockerDefaultProfile } from "./docker-default.ts";
import { parseSeccompProfile, type SeccompProfile } from "./profile-schema.ts";
import { nr } from "./test-helpers.ts";

const LOADER = String.raw`
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <linux/seccomp.h>
#include <linux/filter.h>
static unsigned char buf[65536];
int main(int argc, char **argv) {
  FILE *f = fopen(argv[1], "rb");
  if (!f) return 2;
  size_t n = fread(buf, 1, sizeof buf, f);
  fclose(f);
  struct sock_fprog prog = { .len = (unsigned short)(n / 8), .filter = (struct sock_filter *)buf };
  for (int i = 2; i < argc; i++) {
    int compat = argv[i][0] == 'i';
    unsigned long a[7] = {0};
    sscanf(argv[i] + compat, "%lu:%lu:%lu:%lu", &a[0], &a[1], &a[2], &a[3]);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
      if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog)) {
        printf("load-failed %d\n", errno);
        fflush(stdout); _exit(0);
      }
      long r;
#if defined(__x86_64__)
      if (compat) { __asm__ volatile("int $0x80" : "=a"(r) : "a"(a[0]), "b"(a[1]), "c"(a[2]), "d"(a[3]) : "memory"); printf("%ld %d\n", r < 0 ? -1L : r, r < 0 ? (int)-r : 0); fflush(stdout); _exit(0); }
#endif
      r = syscall(a[0], a[1], a[2], a[3], 0, 0, 0);
      printf("%ld %d\n", r < 0 ? -1L : r, r < 0 ? errno : 0);
      fflush(stdout); _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    if (WIFSIGNALED(st)) printf("signal %d\n", WTERMSIG(st));
  }
  return 0;
}
`;

const arch = process.arch === "x64" || process.arch === "arm64" ? process.arch : undefined;
const cc = Bun.which("cc") ?? Bun.which("gcc");
const dir = mkdtempSync(join(tmpdir(), "pelagos-seccomp-kernel-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let loader: string | undefined;
if (arch && cc && process.platform === "linux") {
  writeFileSync(join(dir, "loader.c"), LOADER);
  const r = Bun.spawnSync([cc, "-O1", "-o", join(dir, "loader"), join(dir, "loader.c")]);
  if (r.exitCode === 0) loader = join(dir, "loader");
}

interface Call {
  abi: "native" | "i386";
  nr: number;
  args?: bigint[];
}

/** Runs each call under the filter in the kernel and compares with the interpreter. */
function crossCheck(profile: SeccompProfile, calls: Call[], caps: string[] = []) {
  const { filter } = compileSeccomp(profile, { arch: arch!, capabilities: caps, kernel: [6, 1] });
  const file = join(dir, `f${Math.random().toString(36).slice(2)}.bin`);
  writeFileSync(file, filter);
  const argv = calls.map((c) => `${c.abi === "i386" ? "i" : ""}${[c.nr, ...(c.args ?? [])].join(":")}`);
  const out = Bun.spawnSync([loader!, file, ...argv]).stdout.toString().trim().split("\n");
  calls.forEach((c, i) => {
    const auditArch = c.abi === "i386" ? AUDIT_ARCH_I386 : arch === "x64" ? AUDIT_ARCH_X86_64 : AUDIT_ARCH_AARCH64;
    const want = describeAction(runFilter(filter, { nr: c.nr, arch: auditArch, args: c.args ?? [] }).action);
    const line = out[i] ?? "";
    const [ret, errno] = line.split(" ");
    let got: string;
    if (line.startsWith("signal 31")) got = want.startsWith("KILL") ? want : "SIGSYS";
    else if (line.startsWith("load-failed")) got = line;
    else if (ret === "-1" && want.startsWith("ERRNO(")) got = `ERRNO(${errno})`;
    else if (want === "ALLOW" && /^-?\d+ \d+$/.test(line) && !(ret === "-1" && errno === "1")) got = "ALLOW";
    else got = `kernel said: "${line}"`;
    expect(`${c.abi}/${c.nr}(${(c.args ?? []).join(",")}): ${got}`).toBe(`${c.abi}/${c.nr}(${(c.args ?? []).join(",")}): ${want}`);
  });
}

const abi = arch === "arm64" ? "aarch64" : "x86_64";
const n = (name: string) => nr(abi, name);

describe.skipIf(!loader)("compiled filters in the running kernel", () => {
  test("Docker default profile", () => {
    const calls: Call[] = [
      { abi: "native", nr: n("getpid") },
      { abi: "native", nr: n("mount"), args: [0n, 0n, 0n] },
      { abi: "native", nr: n("unshare"), args: [0x10000000n] },
      { abi: "native", nr: n("clone3"), args: [0n, 0n] },
      { abi: "native", nr: n("fchmodat2"), args: [0n, 0n, 0n] },
      { abi: "native", nr: n("personality"), args: [0xffffn] },
      { abi: "native", nr: n("personality"), args: [0xffffffffn] },
      { abi: "native", nr: n("socket"), args: [40n, 1n, 0n] },
      { abi: "native", nr: n("keyctl"), args: [0n] },
      { abi: "native", nr: n("ioctl"), args: [0xffffffffn, 0n] },
    ];
    if (arch === "x64") calls.push({ abi: "i386", nr: nr("i386", "getpid") }, { abi: "i386", nr: nr("i386", "mount") });
    crossCheck(dockerDefaultProfile(), calls);
  });

  test("kill, trap-free errnos and 64-bit argument compares", () => {
    const profile = parseSeccompProfile({
      defaultAction: "SCMP_ACT_ALLOW",
      syscalls: [
        { names: ["getppid"], action: "SCMP_ACT_KILL_PROCESS" },
        { names: ["ioctl"], action: "SCMP_ACT_ERRNO", errnoRet: 77, args: [{ index: 1, value: "0xffffffff00000000", op: "SCMP_CMP_GE" }] },
        { names: ["ioctl"], action: "SCMP_ACT_ERRNO", errnoRet: 78, args: [{ index: 2, value: "0x0000000f00000000", valueTwo: "0x0000000500000000", op: "SCMP_CMP_MASKED_EQ" }] },
      ],
    });
    crossCheck(profile, [
      { abi: "native", nr: n("getppid") },
      { abi: "native", nr: n("ioctl"), args: [0xffffffffn, 0xffffffff00000001n, 0n] },
      { abi: "native", nr: n("ioctl"), args: [0xffffffffn, 0xfffffffe00000001n, 0n] },
      { abi: "native", nr: n("ioctl"), args: [0xffffffffn, 0n, 0x1500000000n] },
      { abi: "native", nr: n("ioctl"), args: [0xffffffffn, 0n, 0x1400000000n] },
    ]);
  });
});
