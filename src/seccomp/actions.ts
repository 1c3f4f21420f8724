import { SECCOMP_ACTIONS } from "../oci/runtime/names.ts";

/** SECCOMP_RET_* values (include/uapi/linux/seccomp.h). The low 16 bits carry data. */
export const SECCOMP_RET_KILL_PROCESS = 0x80000000;
export const SECCOMP_RET_KILL_THREAD = 0x00000000;
export const SECCOMP_RET_TRAP = 0x00030000;
export const SECCOMP_RET_ERRNO = 0x00050000;
export const SECCOMP_RET_USER_NOTIF = 0x7fc00000;
export const SECCOMP_RET_TRACE = 0x7ff00000;
export const SECCOMP_RET_LOG = 0x7ffc0000;
export const SECCOMP_RET_ALLOW = 0x7fff0000;
export const SECCOMP_RET_ACTION_FULL = 0xffff0000;
export const SECCOMP_RET_DATA = 0x0000ffff;

export const EPERM = 1;
export const ENOSYS = 38;

/** The SCMP_ACT_* names (one list with the runtime-spec schema's). */
export const ACTION_NAMES = SECCOMP_ACTIONS;
export type ActionName = (typeof ACTION_NAMES)[number];

/**
 * The filter return value for an action. ERRNO and TRACE carry `errnoRet` (default EPERM, as
 * runc does for both); SCMP_ACT_KILL means KILL_THREAD, as in libseccomp.
 */
export function actionValue(action: ActionName, errnoRet: number | undefined): number {
  switch (action) {
    case "SCMP_ACT_KILL":
    case "SCMP_ACT_KILL_THREAD":
      return SECCOMP_RET_KILL_THREAD;
    case "SCMP_ACT_KILL_PROCESS":
      return SECCOMP_RET_KILL_PROCESS;
    case "SCMP_ACT_TRAP":
      return SECCOMP_RET_TRAP;
    case "SCMP_ACT_ERRNO":
      return (SECCOMP_RET_ERRNO | ((errnoRet ?? EPERM) & SECCOMP_RET_DATA)) >>> 0;
    case "SCMP_ACT_TRACE":
      return (SECCOMP_RET_TRACE | ((errnoRet ?? EPERM) & SECCOMP_RET_DATA)) >>> 0;
    case "SCMP_ACT_ALLOW":
      return SECCOMP_RET_ALLOW;
    case "SCMP_ACT_LOG":
      return SECCOMP_RET_LOG;
    case "SCMP_ACT_NOTIFY":
      return SECCOMP_RET_USER_NOTIF;
  }
}

/**
 * The kernel's precedence between return values when several filters disagree
 * (Documentation/userspace-api/seccomp_filter.rst): lower rank wins. We use the same order to
 * decide between several conditional rules of one syscall that match at once.
 */
export function actionRank(value: number): number {
  const action = (value & SECCOMP_RET_ACTION_FULL) >>> 0;
  switch (action) {
    case SECCOMP_RET_KILL_PROCESS:
      return 0;
    case SECCOMP_RET_KILL_THREAD:
      return 1;
    case SECCOMP_RET_TRAP:
      return 2;
    case SECCOMP_RET_ERRNO:
      return 3;
    case SECCOMP_RET_USER_NOTIF:
      return 4;
    case SECCOMP_RET_TRACE:
      return 5;
    case SECCOMP_RET_LOG:
      return 6;
    default:
      return 7;
  }
}

/** Human-readable form of a return value, for logs and test failures. */
export function describeAction(value: number): string {
  const data = value & SECCOMP_RET_DATA;
  switch ((value & SECCOMP_RET_ACTION_FULL) >>> 0) {
    case SECCOMP_RET_KILL_PROCESS:
      return "KILL_PROCESS";
    case SECCOMP_RET_KILL_THREAD:
      return "KILL_THREAD";
    case SECCOMP_RET_TRAP:
      return "TRAP";
    case SECCOMP_RET_ERRNO:
      return `ERRNO(${data})`;
    case SECCOMP_RET_USER_NOTIF:
      return "NOTIFY";
    case SECCOMP_RET_TRACE:
      return `TRACE(${data})`;
    case SECCOMP_RET_LOG:
      return "LOG";
    case SECCOMP_RET_ALLOW:
      return "ALLOW";
    default:
      return `UNKNOWN(0x${(value >>> 0).toString(16)})`;
  }
}

/** SECCOMP_FILTER_FLAG_* by the names the OCI spec uses. */
export const FILTER_FLAGS: Readonly<Record<string, number>> = {
  SECCOMP_FILTER_FLAG_TSYNC: 1,
  SECCOMP_FILTER_FLAG_LOG: 2,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: 4,
  SECCOMP_FILTER_FLAG_NEW_LISTENER: 8,
  SECCOMP_FILTER_FLAG_TSYNC_ESRCH: 16,
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: 32,
};
export const SECCOMP_FILTER_FLAG_NEW_LISTENER = 8;
