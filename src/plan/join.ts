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
import { closeCgroupFds, planCgroupPlacement, Ready, type Launch, type LaunchCgroup } from "./launch.ts";
import type { OciProcess } from "../oci/runtime/config.ts";
import { planProcessStart } from "./process-start.ts";

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

/**
 * T clones the process (into the container's cgroup when given), reports its
 * pid, and stays as its parent to mirror its status; the child goes on with
 * the next op, dying with T.
 */
function cloneAndWait(e: Emitter, cg: LaunchCgroup | undefined): void {
  const b = e.b;
  b.step("create the process");
  const clone = b.op(Op.CLONE, [0, cg?.fd !== undefined ? 1 : 0, cg?.fd ?? 0, 0]);
  const child = b.label();
  b.target(clone, 3, child);
  b.op(Op.REPORT_PID);
  b.op(Op.CLOSE_SYNC);
  closeCgroupFds(e, cg);
  b.op(Op.WAIT_CHILD);
  b.here(child);
  b.step("watch the parent process");
  b.op(Op.DEATHSIG, [K.SIGKILL, 0]);
}

export function planJoinExec(req: JoinRequest): Launch {
  const e = new Emitter(new PlanBuilder(), syscallTable(req.host.arch));
  const b = e.b;
  b.step("watch the runtime process");
  b.op(Op.DEATHSIG, [K.SIGKILL, 1]); // 1: the parent must still be the runtime
  b.op(Op.RESET_SIGNALS);
  b.step(`open ${req.path}`);
  const prog = b.slot();
  e.sys("openat", [K.AT_FDCWD, b.str(req.path), K.O_PATH | K.O_CLOEXEC, 0], { slot: prog });
  b.step(`enter the namespaces of process ${req.pid}`);
  const pidfd = b.slot();
  e.sys("pidfd_open", [req.pid, 0], { slot: pidfd });
  e.sys("setns", [pidfd, req.namespaces]);
  e.close(pidfd);
  cloneAndWait(e, undefined);
  b.step(`execute "${req.path}"`);
  const argv = b.ptrArray(req.args.map((a) => b.str(a)));
  const envp = b.ptrArray(req.env.map((v) => b.str(v)));
  e.sys("execveat", [prog, b.str(""), argv, envp, K.AT_EMPTY_PATH]);
  return { mode: "run", plan: b.finish(), steps: b.steps, readies: [], cloneFlags: 0 };
}

/** `pelagos exec`: a process inside a running container, with the container's own restrictions. */
export type ExecInRequest = {
  pid: number;
  namespaces: number;
  /** the process, built from the container's stored OCI config (user, env, cwd overridden by flags) */
  proc: OciProcess;
  seccomp?: { filter: Uint8Array; flags: number };
  /** fd (in the trampoline) of a socket to send the pty master on (proc.terminal) */
  consoleFd?: number;
  /** -d: the trampoline outlives pelagos (no parent-death signal on it) */
  detach: boolean;
  /** the container's cgroup, as for its init (launch.ts LaunchCgroup) */
  cgroup?: LaunchCgroup;
  host: HostFacts;
};

/**
 * T: opens the container's root and pidfd, setns(pidfd, every namespace of
 * the container) — the PID namespace applies to children, so the process
 * it clones is born inside, and into the container's cgroup (CLONE_INTO_CGROUP;
 * v1 hierarchies are joined by the runtime at a sync point) — then waits and
 * mirrors the status.
 * The child: chroot into the container's root (the nsenter technique: the
 * root of the mount namespace is not where pivot_root left the container),
 * then the same steps, in the same order and from the same builders, as the
 * container's init (launch.ts): session, terminal, seccomp, credentials
 * (bounding set, uid/gid, capabilities), cwd, fds, no_new_privs, exec.
 */
export function planExecIn(req: ExecInRequest): Launch {
  const e = new Emitter(new PlanBuilder(), syscallTable(req.host.arch));
  const b = e.b;
  const proc = req.proc;
  const readies: number[] = [];
  if (!req.detach) {
    b.step("watch the runtime process");
    b.op(Op.DEATHSIG, [K.SIGKILL, 1]); // 1: the parent must still be the runtime
  }
  b.op(Op.RESET_SIGNALS);
  b.step(`enter the namespaces of process ${req.pid}`);
  const pidfd = b.slot();
  e.sys("pidfd_open", [req.pid, 0], { slot: pidfd });
  const root = b.slot();
  e.sys("openat", [K.AT_FDCWD, b.str(`/proc/${req.pid}/root`), K.O_PATH | K.O_DIRECTORY | K.O_CLOEXEC, 0], { slot: root });
  e.sys("setns", [pidfd, req.namespaces]);
  e.close(pidfd);
  const cg = req.cgroup;
  cloneAndWait(e, cg);
  planCgroupPlacement(e, cg);
  b.step("enter the container's root");
  e.sys("fchdir", [root]);
  e.sys("chroot", [b.str(".")]);
  e.close(root);
  b.step("start a new session");
  e.sys("setsid", []);
  if (proc.terminal) {
    if (req.consoleFd === undefined) throw new Error("exec with a terminal needs a console socket");
    b.step("create the terminal");
    const master = b.slot();
    e.sys("openat", [K.AT_FDCWD, b.str("/dev/pts/ptmx"), K.O_RDWR | K.O_NOCTTY | K.O_CLOEXEC, 0], { slot: master });
    e.sys("ioctl", [master, K.TIOCSPTLCK, b.bytes(new Uint8Array(4))]);
    const slave = b.slot();
    e.sys("ioctl", [master, K.TIOCGPTPEER, K.O_RDWR | K.O_NOCTTY | K.O_CLOEXEC], { slot: slave });
    b.step("send the terminal to pelagos");
    const sock = b.slot();
    e.sys("fcntl", [req.consoleFd, 1030 /* F_DUPFD_CLOEXEC */, 10], { slot: sock });
    b.op(Op.SEND_FD, [sock.slot, master.slot]);
    e.close(sock);
    e.close(master);
    b.op(Op.READY, [Ready.CONSOLE]);
    readies.push(Ready.CONSOLE);
    b.step("make the terminal the controlling terminal");
    for (const fd of [0, 1, 2]) e.sys("dup3", [slave, fd, 0]);
    e.sys("ioctl", [0, K.TIOCSCTTY, 0]);
    e.close(slave);
  }
  planProcessStart(e, { proc: { ...proc, args: proc.args ?? [], cwd: proc.cwd || "/" }, host: req.host, seccomp: req.seccomp, preserveFds: 0, firstPreservedFd: 0 });
  return { mode: "run", plan: b.finish(), steps: b.steps, readies, cloneFlags: 0 };
}
