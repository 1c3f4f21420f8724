/**
 * The last steps of every process pelagos starts in a container (the init
 * today, `exec` later): credentials and capabilities, working directory,
 * file descriptors, no_new_privs, seccomp, execve — one builder, so a new
 * entry point cannot forget or reorder a security step.
 *
 * Order: without no_new_privs the seccomp filter goes first (loading it then
 * needs CAP_SYS_ADMIN, which the uid change drops; the filter must allow the
 * credential calls, as Docker's does); with no_new_privs it is the very last
 * step before execve. Then bounding set → groups → keep-caps → gid → uid →
 * capset → ambient (planCredentials), cwd, preserved fds, close the rest.
 */
import * as K from "../../ffi/consts.ts";
import type { OciProcess } from "../oci/runtime/config.ts";
import { Op } from "../spawn/plan-encode.ts";
import type { Emitter } from "./emit.ts";
import type { HostFacts } from "./host.ts";
import { execCandidates, planCredentials, planExec } from "./process.ts";

export type ProcessStart = {
  proc: OciProcess & { args: string[] };
  host: HostFacts;
  seccomp?: { filter: Uint8Array; flags: number };
  /** fds 3.. in the process, copied from firstPreservedFd.. */
  preserveFds: number;
  firstPreservedFd: number;
  /** `--init`: fork right before execve; the parent stays as a tiny PID 1 (OP_INIT) */
  init?: boolean;
};

export function planProcessStart(e: Emitter, o: ProcessStart): void {
  const { proc } = o;
  const b = e.b;
  const nnp = proc.noNewPrivileges === true;
  if (o.seccomp && !nnp) planSeccomp(e, o.seccomp);
  planCredentials(e, proc, o.host);
  if (proc.cwd) {
    b.step(`change to the working directory ${proc.cwd}`);
    e.sys("chdir", [b.str(proc.cwd)]);
  }
  if (o.preserveFds > 0) {
    b.step("pass the preserved file descriptors");
    b.op(Op.MOVE_SYNC, [1000]);
    for (let i = 0; i < o.preserveFds; i++) e.sys("dup3", [o.firstPreservedFd + i, 3 + i, 0]);
  }
  b.step("close inherited file descriptors");
  e.sys("close_range", [3 + o.preserveFds, 0xffffffff, K.CLOSE_RANGE_CLOEXEC]);
  if (nnp) {
    b.step("set no_new_privs");
    e.sys("prctl", [K.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0]);
    if (o.seccomp) planSeccomp(e, o.seccomp);
  }
  if (o.init) {
    b.step("start the init process");
    b.op(Op.INIT);
  }
  const env = proc.env ?? [];
  planExec(e, proc.args[0]!, proc.args, env, execCandidates(proc.args[0]!, env));
}

/** seccomp(SET_MODE_FILTER) with a filter compiled by src/seccomp. */
export function planSeccomp(e: Emitter, s: { filter: Uint8Array; flags: number }): void {
  e.b.step("load the seccomp filter");
  const filter = e.b.bytes(s.filter);
  const prog = e.b.words([s.filter.length / 8, filter]);
  e.sys("seccomp", [K.SECCOMP_SET_MODE_FILTER, s.flags, prog]);
}
