/**
 * Architectures a pelagos host can meet in seccomp_data.arch, with their syscall tables.
 * An x86_64 kernel runs x86_64, i386 (int 0x80 / compat) and x32 processes; an aarch64 kernel
 * runs aarch64 and, on CPUs that still have AArch32, 32-bit ARM processes.
 */
import { aarch64Syscalls } from "./aarch64.ts";
import { armSyscalls } from "./arm.ts";
import { i386Syscalls } from "./i386.ts";
import { x32Syscalls } from "./x32.ts";
import { x86_64Syscalls } from "./x86_64.ts";

export const AUDIT_ARCH_X86_64 = 0xc000003e;
export const AUDIT_ARCH_I386 = 0x40000003;
export const AUDIT_ARCH_AARCH64 = 0xc00000b7;
export const AUDIT_ARCH_ARM = 0x40000028;
/** x32 syscalls arrive with AUDIT_ARCH_X86_64 and this bit set in nr. */
export const X32_SYSCALL_BIT = 0x40000000;

export type HostArch = "x64" | "arm64";
export type SubArch = "SCMP_ARCH_X86_64" | "SCMP_ARCH_X86" | "SCMP_ARCH_X32" | "SCMP_ARCH_AARCH64" | "SCMP_ARCH_ARM";

export interface SubArchInfo {
  name: SubArch;
  audit: number;
  /** Added to every table entry (the x32 bit). */
  nrBase: number;
  /** 32-bit ABIs: the kernel hands the filter zero-extended 32-bit arguments. */
  wide: boolean;
  /** name → number; built on first call. */
  table: () => Readonly<Record<string, number>>;
}

export const SUB_ARCHES: Readonly<Record<SubArch, SubArchInfo>> = {
  SCMP_ARCH_X86_64: { name: "SCMP_ARCH_X86_64", audit: AUDIT_ARCH_X86_64, nrBase: 0, wide: true, table: x86_64Syscalls },
  SCMP_ARCH_X32: { name: "SCMP_ARCH_X32", audit: AUDIT_ARCH_X86_64, nrBase: X32_SYSCALL_BIT, wide: true, table: x32Syscalls },
  SCMP_ARCH_X86: { name: "SCMP_ARCH_X86", audit: AUDIT_ARCH_I386, nrBase: 0, wide: false, table: i386Syscalls },
  SCMP_ARCH_AARCH64: { name: "SCMP_ARCH_AARCH64", audit: AUDIT_ARCH_AARCH64, nrBase: 0, wide: true, table: aarch64Syscalls },
  SCMP_ARCH_ARM: { name: "SCMP_ARCH_ARM", audit: AUDIT_ARCH_ARM, nrBase: 0, wide: false, table: armSyscalls },
};

export interface HostArchInfo {
  native: SubArch;
  /** Sub-architectures this kernel can present, native first. */
  possible: readonly SubArch[];
  /** runtime.GOARCH, which Docker's `includes.arches` / `excludes.arches` match against. */
  goArch: string;
}

export const HOST_ARCHES: Readonly<Record<HostArch, HostArchInfo>> = {
  x64: { native: "SCMP_ARCH_X86_64", possible: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"], goArch: "amd64" },
  arm64: { native: "SCMP_ARCH_AARCH64", possible: ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"], goArch: "arm64" },
};

/** Number of `name` on `arch` (x32 bit included), or undefined when the ABI has no such call. */
export function syscallNumber(arch: SubArchInfo, name: string): number | undefined {
  const nr = arch.table()[name];
  return nr === undefined ? undefined : (nr + arch.nrBase) >>> 0;
}
