import { describe, expect, test } from "bun:test";
import { AUDIT_ARCH_AARCH64 } from "./arch/index.ts";
import { runFilter } from "./bpf-interp.ts";
import { compileSeccomp } from "./compile.ts";
import { dockerDefaultProfile, dockerDefaultProfileJson } from "./docker-default.ts";
import { parseSeccompProfile } from "./profile-schema.ts";
import { verdict } from "./test-helpers.ts";

const OCI_DEFAULT_CAPS = ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
  "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"];
const CLONE_NEWUSER = 0x10000000;
const CLONE_NEWNS = 0x00020000;
const CLONE_THREAD_FLAGS = 0x003d0f00; // what pthread_create passes: VM|FS|FILES|SIGHAND|THREAD|SYSVSEM|SETTLS|PARENT_SETTID|CHILD_CLEARTID

const x64 = (caps: string[] = OCI_DEFAULT_CAPS, kernel?: [number, number]) =>
  compileSeccomp(dockerDefaultProfile(), { arch: "x64", capabilities: caps, kernel }).filter;
const arm64 = (caps: string[] = OCI_DEFAULT_CAPS, kernel?: [number, number]) =>
  compileSeccomp(dockerDefaultProfile(), { arch: "arm64", capabilities: caps, kernel }).filter;

describe("Docker default profile", () => {
  test("the shipped data validates to the same profile", () => {
    expect(parseSeccompProfile(dockerDefaultProfileJson())).toEqual(dockerDefaultProfile());
  });

  test("ordinary syscalls are allowed", () => {
    const fx = x64();
    for (const name of ["read", "write", "epoll_wait", "epoll_pwait", "openat", "execve", "exit_group", "futex", "mmap", "capset", "setuid", "prctl", "accept"]) {
      expect(verdict(fx, "x86_64", name)).toBe("ALLOW");
    }
    expect(verdict(fx, "x86_64", "socket", [2, 1, 0])).toBe("ALLOW");
    const fa = arm64();
    for (const name of ["read", "write", "epoll_pwait", "openat", "execve", "exit_group", "futex", "mmap", "socket"]) {
      expect(verdict(fa, "aarch64", name)).toBe("ALLOW");
    }
  });

  test("privileged syscalls fail with EPERM", () => {
    const fx = x64();
    for (const name of ["mount", "umount2", "unshare", "setns", "keyctl", "add_key", "reboot", "ptrace", "init_module", "bpf", "swapon", "pivot_root", "open_tree", "kexec_load", "userfaultfd"]) {
      expect(`${name}: ${verdict(fx, "x86_64", name)}`).toBe(`${name}: ERRNO(1)`);
    }
    const fa = arm64();
    for (const name of ["mount", "unshare", "keyctl", "reboot", "ptrace"]) {
      expect(`${name}: ${verdict(fa, "aarch64", name)}`).toBe(`${name}: ERRNO(1)`);
    }
    // socket(AF_VSOCK) is the one socket family the profile refuses.
    expect(verdict(fx, "x86_64", "socket", [40, 1, 0])).toBe("ERRNO(1)");
  });

  test("capabilities open their syscalls", () => {
    expect(verdict(x64([...OCI_DEFAULT_CAPS, "CAP_SYS_ADMIN"]), "x86_64", "mount")).toBe("ALLOW");
    expect(verdict(x64([...OCI_DEFAULT_CAPS, "CAP_SYS_BOOT"]), "x86_64", "reboot")).toBe("ALLOW");
    expect(verdict(x64(["sys_ptrace"]), "x86_64", "ptrace")).toBe("ALLOW"); // names are normalised
    expect(verdict(x64(OCI_DEFAULT_CAPS), "x86_64", "chroot")).toBe("ALLOW"); // CAP_SYS_CHROOT is a default cap
    expect(verdict(x64([]), "x86_64", "chroot")).toBe("ERRNO(1)");
  });

  test("ptrace is allowed on kernels >= 4.8 (minKernel gate), refused when the kernel is unknown", () => {
    expect(verdict(x64(OCI_DEFAULT_CAPS, [6, 1]), "x86_64", "ptrace")).toBe("ALLOW");
    expect(verdict(x64(OCI_DEFAULT_CAPS, [4, 4]), "x86_64", "ptrace")).toBe("ERRNO(1)");
    expect(verdict(x64(OCI_DEFAULT_CAPS), "x86_64", "ptrace")).toBe("ERRNO(1)");
  });

  test("clone with namespace flags needs CAP_SYS_ADMIN", () => {
    const plain = x64();
    expect(verdict(plain, "x86_64", "clone", [CLONE_THREAD_FLAGS])).toBe("ALLOW");
    expect(verdict(plain, "x86_64", "clone", [0x11])).toBe("ALLOW"); // fork(): SIGCHLD
    expect(verdict(plain, "x86_64", "clone", [CLONE_NEWUSER | 0x11])).toBe("ERRNO(1)");
    expect(verdict(plain, "x86_64", "clone", [CLONE_NEWNS])).toBe("ERRNO(1)");
    expect(verdict(arm64(), "aarch64", "clone", [CLONE_NEWUSER])).toBe("ERRNO(1)");
    const admin = x64([...OCI_DEFAULT_CAPS, "CAP_SYS_ADMIN"]);
    expect(verdict(admin, "x86_64", "clone", [CLONE_NEWUSER | 0x11])).toBe("ALLOW");
  });

  test("clone3 fails with ENOSYS so glibc falls back to clone", () => {
    expect(verdict(x64(), "x86_64", "clone3")).toBe("ERRNO(38)");
    expect(verdict(arm64(), "aarch64", "clone3")).toBe("ERRNO(38)");
    expect(verdict(x64([...OCI_DEFAULT_CAPS, "CAP_SYS_ADMIN"]), "x86_64", "clone3")).toBe("ALLOW");
  });

  test("personality accepts only the listed personas", () => {
    const f = x64();
    for (const p of [0, 8, 0x20000, 0x20008, 0xffffffff]) expect(verdict(f, "x86_64", "personality", [p])).toBe("ALLOW");
    for (const p of [0xffff, 1, 0x0400000, 0x1_00000000n]) expect(verdict(f, "x86_64", "personality", [p])).toBe("ERRNO(1)");
    expect(verdict(f, "i386", "personality", [0xffffffff])).toBe("ALLOW");
    expect(verdict(f, "i386", "personality", [0xffff])).toBe("ERRNO(1)");
  });

  test("i386 and x32 processes get the same policy with their own numbers", () => {
    const f = x64();
    for (const name of ["read", "socketcall", "mmap2", "_llseek", "set_thread_area"]) expect(verdict(f, "i386", name)).toBe("ALLOW");
    for (const name of ["mount", "keyctl", "unshare"]) expect(verdict(f, "i386", name)).toBe("ERRNO(1)");
    // Docker lists SCMP_ARCH_X32 for amd64, so x32 calls are judged by the x32 table.
    expect(verdict(f, "x32", "read")).toBe("ALLOW");
    expect(verdict(f, "x32", "mount")).toBe("ERRNO(1)");
    expect(verdict(f, "x32", "unshare")).toBe("ERRNO(1)");
  });

  test("a 32-bit ARM process on arm64 is filtered by the ARM table", () => {
    const f = arm64();
    for (const name of ["read", "set_tls", "cacheflush", "arm_fadvise64_64"]) expect(verdict(f, "arm", name)).toBe("ALLOW");
    expect(verdict(f, "arm", "mount")).toBe("ERRNO(1)");
  });

  test("an architecture outside the profile is killed", () => {
    expect(runFilter(x64(), { nr: 63, arch: AUDIT_ARCH_AARCH64 }).action).toBe(0); // SECCOMP_RET_KILL_THREAD
    expect(runFilter(arm64(), { nr: 0, arch: 0xc000003e }).action).toBe(0);
  });

  test("syscalls newer than the profile get ENOSYS, unknown older ones EPERM", () => {
    const f = x64();
    expect(verdict(f, "x86_64", "fchmodat2")).toBe("ERRNO(38)");
    expect(verdict(f, "x86_64", "mseal")).toBe("ERRNO(38)");
    expect(verdict(f, "x86_64", 100000)).toBe("ERRNO(38)");
    expect(verdict(f, "x86_64", 0xffffffff)).toBe("ERRNO(1)"); // nr -1 keeps the default action
    const noStub = compileSeccomp(dockerDefaultProfile(), { arch: "x64", capabilities: [], enosysForNewSyscalls: false });
    expect(verdict(noStub.filter, "x86_64", "fchmodat2")).toBe("ERRNO(1)");
  });

  test("names that do not exist on an arch are reported, not fatal", () => {
    const r = compileSeccomp(dockerDefaultProfile(), { arch: "x64", capabilities: [] });
    expect(r.skipped).toContain("chown32 (SCMP_ARCH_X86_64)");
    expect(r.skipped).not.toContain("read (SCMP_ARCH_X86_64)");
    expect(r.needsListener).toBe(false);
    expect(r.flags).toBe(0);
    expect(r.instructions).toBeLessThan(1000);
  });
});
