/**
 * A process that joins a running container's namespaces (createContainer
 * hooks now; `exec` later): T opens the program in the runtime's namespaces,
 * enters the container's with one setns(pidfd), and clones the child there
 * (setns(PID) applies to children), then mirrors its exit status.
 */
import * as K from "../../ffi/consts.ts";
import { syscallTable } from "../../ffi/syscalls.ts";
import { Op, PlanBuilder } from "../spawn/plan-encode.ts";
import { Emitter } from "./emit.ts";
import type { HostFacts } from "./host.ts";
import type { Launch } from "./launch.ts";

export type JoinRequest = {
  /** host pid of the container's init */
  pid: number;
  /** CLONE_NEW* flags of the namespaces to enter */
  namespaces: number;
  /** program resolved in the runtime's mount namespace */
  path: string;
  args: string[];
  env: string[];
  host: HostFacts;
};

export function planJoinExec(req: JoinRequest): Launch {
  const e = new Emitter(new PlanBuilder(), syscallTable(req.host.arch));
  const b = e.b;
  b.step("watch the runtime process");
  b.op(Op.DEATHSIG, [K.SIGKILL, req.host.pid]);
  b.op(Op.RESET_SIGNALS);
  b.step(`open ${req.path}`);
  const prog = b.slot();
  e.sys("openat", [K.AT_FDCWD, b.str(req.path), K.O_PATH | K.O_CLOEXEC, 0], { slot: prog });
  b.step(`enter the namespaces of process ${req.pid}`);
  const pidfd = b.slot();
  e.sys("pidfd_open", [req.pid, 0], { slot: pidfd });
  e.sys("setns", [pidfd, req.namespaces]);
  e.close(pidfd);
  b.step("create the process");
  const clone = b.op(Op.CLONE, [0, 0, 0, 0]);
  const child = b.label();
  b.target(clone, 3, child);
  b.op(Op.REPORT_PID);
  b.op(Op.CLOSE_SYNC);
  b.op(Op.WAIT_CHILD);
  b.here(child);
  b.op(Op.DEATHSIG, [K.SIGKILL, 0]);
  b.step(`execute "${req.path}"`);
  const argv = b.ptrArray(req.args.map((a) => b.str(a)));
  const envp = b.ptrArray(req.env.map((v) => b.str(v)));
  e.sys("execveat", [prog, b.str(""), argv, envp, K.AT_EMPTY_PATH]);
  return { mode: "run", plan: b.finish(), steps: b.steps, readies: [], cloneFlags: 0 };
}
