/** Seccomp: profile parsing and the BPF compiler. Installing the filter is the spawn engine's job. */
export { compileSeccomp, BAD_ARCH_ACTION, type CompileOptions, type CompiledSeccomp } from "./compile.ts";
export { dockerDefaultProfile, dockerDefaultProfileJson } from "./docker-default.ts";
export { loadSeccompProfileFile, parseProfileJson } from "./load-file.ts";
export { parseSeccompProfile, SeccompProfileSchema, type SeccompProfile } from "./profile-schema.ts";
export * from "./actions.ts";
export {
  AUDIT_ARCH_AARCH64,
  AUDIT_ARCH_ARM,
  AUDIT_ARCH_I386,
  AUDIT_ARCH_X86_64,
  X32_SYSCALL_BIT,
  syscallNumber,
  SUB_ARCHES,
  type HostArch,
} from "./arch/index.ts";
