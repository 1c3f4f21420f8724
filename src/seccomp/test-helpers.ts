/** Shared helpers for seccomp tests: run a compiled filter and name the result. */
import { describeAction } from "./actions.ts";
import { AUDIT_ARCH_AARCH64, AUDIT_ARCH_ARM, AUDIT_ARCH_I386, AUDIT_ARCH_X86_64, SUB_ARCHES, syscallNumber, type SubArch } from "./arch/index.ts";
import { runFilter } from "./bpf-interp.ts";

export const AUDIT: Record<string, number> = {
  x86_64: AUDIT_ARCH_X86_64,
  x32: AUDIT_ARCH_X86_64,
  i386: AUDIT_ARCH_I386,
  aarch64: AUDIT_ARCH_AARCH64,
  arm: AUDIT_ARCH_ARM,
};
const SUB: Record<string, SubArch> = {
  x86_64: "SCMP_ARCH_X86_64",
  x32: "SCMP_ARCH_X32",
  i386: "SCMP_ARCH_X86",
  aarch64: "SCMP_ARCH_AARCH64",
  arm: "SCMP_ARCH_ARM",
};

export function nr(abi: keyof typeof SUB, name: string): number {
  const n = syscallNumber(SUB_ARCHES[SUB[abi]!], name);
  if (n === undefined) throw new Error(`no syscall "${name}" on ${abi}`);
  return n;
}

/** The action the filter returns for `name` on `abi`, as text ("ALLOW", "ERRNO(1)", ...). */
export function verdict(filter: Uint8Array, abi: keyof typeof SUB, name: string | number, args: (bigint | number)[] = []): string {
  const n = typeof name === "number" ? name : nr(abi, name);
  return describeAction(runFilter(filter, { nr: n, arch: AUDIT[abi]!, args }).action);
}
