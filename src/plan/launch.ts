/**
 * (validated config, host facts) → the trampoline plan for a container's init.
 *
 * Order, and why:
 *   T (trampoline, host side): parent-death signal, signal reset, join
 *     namespaces given by path (user first), clone3 with the new ones.
 *   C (the container's init):
 *     1  user namespace: wait until the runtime wrote uid/gid maps
 *     2  mounts: "/" private (so nothing propagates to the host), rootfs
 *        bind, config mounts in order, devices, /dev symlinks — all resolved
 *        inside the root before pivot_root, while host paths (bind sources)
 *        are still reachable
 *     3  hostname, loopback up
 *     4  sync: runtime runs prestart/createRuntime/createContainer hooks
 *     5  terminal: a pty from the container's devpts, master sent to the runtime
 *     6  pivot_root; masked and read-only paths, sysctls, read-only root
 *        (these need the container's own /proc and /sys)
 *     7  oom_score_adj, rlimits (before capabilities are dropped)
 *     8  sync "created" (OCI create stops here until `start`), startContainer hooks
 *     9  session/tty, umask, groups/gid/uid, capabilities, cwd, fds, no_new_privs,
 *        seccomp last (when no_new_privs is off, seccomp goes before the uid
 *        change because loading it then needs CAP_SYS_ADMIN), execve
 */
import * as K from "../../ffi/consts.ts";
import { syscallTable } from "../../ffi/syscalls.ts";
import { ConfigError } from "../errors.ts";
import type { OciConfig, OciHook } from "../oci/runtime/config.ts";
import { Op, PlanBuilder } from "../spawn/plan-encode.ts";
import { Emitter, type Slot } from "./emit.ts";
import type { HostFacts } from "./host.ts";
import { planNamespaces } from "./namespaces.ts";
import { planMounts, planDevices, planMasked, planReadonly } from "./mounts.ts";
import { planExec } from "./process.ts";
import { planProcessStart } from "./process-start.ts";
import { sysctlNamespace } from "../security/sysctl.ts";

import { Ready } from "./ready.ts";
export { Ready };

/**
 * The container's cgroup: `fd` (in the trampoline) of the cgroup2 leaf for CLONE_INTO_CGROUP;
 * `v1Tasks`: fds (in the trampoline) of the `tasks` file of each v1 hierarchy's cgroup (named by its
 * controllers, never by the container's path: plans are cached, plan-cache.ts), opened by
 * the runtime; the child writes "0" into each right after clone, before any setup (the kernel
 * then moves only the calling thread and skips its global threadgroup lock: no RCU grace period;
 * ADR 0007). A cgroup namespace is then unshared by the init once it sits in every cgroup (clone3
 * would root it at the runtime's cgroups, which on v1 hierarchies it never leaves otherwise).
 */
export type LaunchCgroup = { fd?: number; v1Tasks: { fd: number; name: string }[] };

export type LaunchRequest = {
  config: OciConfig;
  /** absolute host path of the root filesystem */
  rootfs: string;
  /** "run": the trampoline stays as the container's parent and mirrors its exit status */
  mode: "run" | "create";
  /** create: fd (in the trampoline) of the exec fifo, opened O_RDWR by the runtime (no path: plans are cached) */
  execFifoFd?: number;
  /** fd (in the trampoline) of a socket to send the pty master on */
  consoleFd?: number;
  /** fds 3.. in the container, passed after the trampoline's own */
  preserveFds: number;
  firstPreservedFd: number;
  seccomp?: { filter: Uint8Array; flags: number };
  /** an image: its layers (bottom → top) as an overlay at `rootfs`, writes going to `upper` */
  overlay?: { lower: string[]; upper: string; work: string };
  /** run prestart/createRuntime/createContainer hooks at the pre-pivot sync point */
  runtimeHooks: boolean;
  /**
   * user namespaces (`pelagos run --userns`): the runtime answers the user
   * namespace sync point with the root filesystem as a detached idmapped
   * tree (only a host-privileged process may idmap it), moved into place
   * instead of the self-bind
   */
  idmapRootfs?: boolean;
  host: HostFacts;
  cgroup?: LaunchCgroup;
  /** detached (`run -d`): the trampoline supervises instead of mirroring the status (fds are the trampoline's) */
  supervise?: SuperviseFds;
  /** `--init`: a tiny init stays PID 1 and runs the program as its child */
  init?: boolean;
};

export type SuperviseFds = {
  out: number; err: number; dir: number; control: number; maxBytes: number; maxFiles: number;
  /** a terminal: the socket the pty master arrives on, and the stdin fifo copied to it */
  console?: number; stdin?: number;
  /** the container's cgroup dirs (creation order), removed once it exited */
  cgroupDirs?: string[];
  /** memory.events / memory.oom_control of the container's cgroup: read for exit.json's oomKilled */
  oomFile?: string;
};

export type Launch = {
  mode: "run" | "create";
  plan: Uint8Array;
  steps: string[];
  /** READY values the runtime will see, in order */
  readies: number[];
  cloneFlags: number;
};

export function planLaunch(req: LaunchRequest): Launch {
  const { config } = req;
  const proc = config.process;
  if (!proc?.args?.length) throw new ConfigError("process.args", "a command to run is required");
  const e = new Emitter(new PlanBuilder(), syscallTable(req.host.arch));
  const b = e.b;
  const ns = planNamespaces(config.linux?.namespaces);
  const readies: number[] = [];
  validateNamespaceUse(config, ns.has);

  // ---- T: the trampoline, in the runtime's namespaces
  b.step("watch the runtime process");
  if (req.mode === "run") b.op(Op.DEATHSIG, [K.SIGKILL, 1]); // 1: the parent must still be the runtime
  b.step("reset signal handlers");
  b.op(Op.RESET_SIGNALS);
  for (const j of ns.join) {
    b.step(`join the ${j.type} namespace at ${j.path}`);
    const fd = b.slot();
    e.sys("openat", [K.AT_FDCWD, b.str(j.path), K.O_RDONLY | K.O_CLOEXEC, 0], { slot: fd });
    e.sys("setns", [fd, j.flag]);
    e.close(fd);
  }
  if (req.idmapRootfs) {
    // the init starts in the root filesystem: as root of a user namespace it may
    // not be allowed to walk the host directories above it
    b.step(`change into ${req.rootfs}`);
    e.sys("chdir", [b.str(req.rootfs)]);
  }
  b.step("create the container process");
  const cg = req.cgroup;
  const lateCgroupNs = cg !== undefined && (ns.clone & K.CLONE_NEWCGROUP) !== 0;
  const cloneOp = b.op(Op.CLONE, [lateCgroupNs ? ns.clone & ~K.CLONE_NEWCGROUP : ns.clone, cg?.fd !== undefined ? 1 : 0, cg?.fd ?? 0, 0]);
  const childStart = b.label();
  b.target(cloneOp, 3, childStart);
  b.op(Op.REPORT_PID);
  b.op(Op.CLOSE_SYNC);
  closeCgroupFds(e, cg);
  if (req.supervise) {
    const v = req.supervise;
    b.step("supervise the container");
    const pack = (lo: number, hi: number | undefined) => lo | ((hi ?? 0xffff) << 16);
    const cgroupDirs = v.cgroupDirs?.length ? b.ptrArray(v.cgroupDirs.map((d) => b.str(d))) : 0;
    const settings = b.words([v.maxBytes, v.maxFiles, cgroupDirs, v.oomFile ? b.str(v.oomFile) : 0]);
    b.op(Op.SUPERVISE, [pack(v.out, v.console), pack(v.err, v.stdin), v.dir, v.control, settings]);
  } else if (req.mode === "run") b.op(Op.WAIT_CHILD);
  else b.op(Op.EXIT, [0]);

  // ---- C: the container's init
  b.here(childStart);
  if (req.mode === "run") {
    b.step("watch the parent process");
    b.op(Op.DEATHSIG, [K.SIGKILL, 0]);
  }
  planCgroupPlacement(e, cg);
  if (req.idmapRootfs && !(ns.clone & K.CLONE_NEWUSER && ns.has.has("mount")))
    throw new ConfigError("linux.namespaces", "an idmapped root filesystem needs new user and mount namespaces");
  const idmapped = req.idmapRootfs ? b.slot() : undefined;
  if (ns.clone & K.CLONE_NEWUSER) {
    b.step("wait for the user namespace mappings");
    if (idmapped) b.op(Op.READY_FD, [Ready.USERNS], { slot: idmapped });
    else b.op(Op.READY, [Ready.USERNS]);
    readies.push(Ready.USERNS);
    b.step("become root in the user namespace");
    e.sys("setresgid", [0, 0, 0]);
    e.sys("setresuid", [0, 0, 0]);
  }
  if (lateCgroupNs) {
    b.step("create the cgroup namespace");
    e.sys("unshare", [K.CLONE_NEWCGROUP]);
  }
  b.step("set the umask for setup");
  e.sys("umask", [0]);

  let root: Slot | undefined;
  const hasMountNs = ns.has.has("mount");
  if (hasMountNs) {
    const prop = config.linux?.rootfsPropagation ?? "";
    b.step(`make "/" ${prop.includes("slave") || prop.includes("shared") ? "rslave" : "rprivate"}`);
    e.sys("mount", [0, b.str("/"), 0, K.MS_REC | (prop.includes("slave") || prop.includes("shared") ? K.MS_SLAVE : K.MS_PRIVATE), 0]);
    if (req.overlay) {
      if (idmapped) throw new ConfigError("linux.uidMappings", "an idmapped root filesystem is not supported for images yet");
      planOverlay(e, req.overlay, req.rootfs, req.host);
    }
    if (idmapped) {
      // onto the cwd (the rootfs, inherited from the trampoline); once attached the
      // tree's fd is the root of the new mount
      b.step(`mount the idmapped root filesystem ${req.rootfs}`);
      e.sys("move_mount", [idmapped, b.str(""), K.AT_FDCWD, b.str("."), K.MOVE_MOUNT_F_EMPTY_PATH]);
      root = idmapped;
    } else {
      b.step(`bind the root filesystem ${req.rootfs}`);
      e.sys("mount", [b.str(req.rootfs), b.str(req.rootfs), 0, K.MS_BIND | K.MS_REC, 0]);
      root = b.slot();
      e.sys("openat", [K.AT_FDCWD, b.str(req.rootfs), K.O_PATH | K.O_DIRECTORY | K.O_CLOEXEC, 0], { slot: root });
    }
    planMounts(e, root, config, req.host);
    planDevices(e, root, config, { userns: (ns.clone & K.CLONE_NEWUSER) !== 0 });
    const cwd = proc.cwd;
    if (cwd && cwd !== "/") {
      b.step(`create the working directory ${cwd}`);
      e.mkdirAll(root, cwd);
    }
  }
  let fifo: Slot | undefined;
  if (req.mode === "create") {
    if (req.execFifoFd === undefined) throw new Error("create mode needs an exec fifo");
    b.step("keep the exec fifo");
    fifo = b.slot();
    e.sys("fcntl", [req.execFifoFd, 1030 /* F_DUPFD_CLOEXEC */, 10], { slot: fifo });
    e.sys("close", [req.execFifoFd], { okErrno: "any" });
  }
  if (config.hostname !== undefined) {
    b.step(`set the hostname to "${config.hostname}"`);
    const h = Buffer.from(config.hostname);
    e.sys("sethostname", [b.bytes(h), h.length]);
  }
  if (config.domainname !== undefined) {
    b.step(`set the domain name to "${config.domainname}"`);
    const d = Buffer.from(config.domainname);
    e.sys("setdomainname", [b.bytes(d), d.length]);
  }
  if (ns.clone & K.CLONE_NEWNET) {
    b.step("bring up the loopback interface");
    const s = b.slot();
    e.sys("socket", [K.AF_INET, K.SOCK_DGRAM | K.SOCK_CLOEXEC, 0], { slot: s });
    const ifr = new Uint8Array(40);
    ifr.set(Buffer.from("lo"));
    new DataView(ifr.buffer).setUint16(16, K.IFF_UP | K.IFF_LOOPBACK | K.IFF_RUNNING, true);
    e.sys("ioctl", [s, K.SIOCSIFFLAGS, b.bytes(ifr)]);
    e.close(s);
  }
  if (req.runtimeHooks) {
    b.step("wait for the runtime hooks");
    b.op(Op.READY, [Ready.HOOKS]);
    readies.push(Ready.HOOKS);
  }
  let slave: Slot | undefined;
  if (proc.terminal) {
    if (req.consoleFd === undefined) throw new ConfigError("process.terminal", "a terminal needs --console-socket (or run -t)");
    b.step("create the container's terminal");
    const master = root
      ? e.openat2(root, "dev/pts/ptmx", K.O_RDWR | K.O_NOCTTY, K.RESOLVE_IN_ROOT)
      : (() => {
          const s = b.slot();
          e.sys("openat", [K.AT_FDCWD, b.str("/dev/ptmx"), K.O_RDWR | K.O_NOCTTY | K.O_CLOEXEC, 0], { slot: s });
          return s;
        })();
    e.sys("ioctl", [master, K.TIOCSPTLCK, b.bytes(new Uint8Array(4))]);
    slave = b.slot();
    e.sys("ioctl", [master, K.TIOCGPTPEER, K.O_RDWR | K.O_NOCTTY | K.O_CLOEXEC], { slot: slave });
    if (proc.consoleSize) {
      const ws = new Uint8Array(8);
      const dv = new DataView(ws.buffer);
      dv.setUint16(0, proc.consoleSize.height, true);
      dv.setUint16(2, proc.consoleSize.width, true);
      e.sys("ioctl", [master, K.TIOCSWINSZ, b.bytes(ws)]);
    }
    b.step("send the terminal to the console socket");
    const sock = b.slot();
    e.sys("fcntl", [req.consoleFd, 1030 /* F_DUPFD_CLOEXEC */, 10], { slot: sock });
    b.op(Op.SEND_FD, [sock, master]);
    e.close(master);
    e.close(sock);
    b.step("wait for the runtime to take the terminal");
    b.op(Op.READY, [Ready.CONSOLE]);
    readies.push(Ready.CONSOLE);
  }
  if (hasMountNs && root) {
    b.step("pivot_root into the root filesystem");
    e.sys("fchdir", [root]);
    e.sys("pivot_root", [b.str("."), b.str(".")]);
    e.sys("umount2", [b.str("."), K.MNT_DETACH]);
    e.sys("chdir", [b.str("/")]);
    e.close(root);
    const prop = config.linux?.rootfsPropagation;
    if (prop) {
      b.step(`make the root mount ${prop}`);
      const flag = { shared: K.MS_SHARED, slave: K.MS_SLAVE, private: K.MS_PRIVATE, unbindable: K.MS_UNBINDABLE }[
        prop.replace(/^r/, "") as "shared"
      ];
      e.sys("mount", [0, b.str("/"), 0, (prop.startsWith("r") ? K.MS_REC : 0) | flag, 0]);
    }
    // sysctls first: /proc/sys is about to become read-only
    planSysctls(e, config);
    planMasked(e, config.linux?.maskedPaths ?? []);
    planReadonly(e, config.linux?.readonlyPaths ?? []);
  } else {
    if (config.root) {
      b.step(`chroot into ${req.rootfs}`);
      e.sys("chroot", [b.str(req.rootfs)]);
      e.sys("chdir", [b.str("/")]);
    }
    planSysctls(e, config);
  }
  if (hasMountNs && config.root?.readonly) {
    b.step("make the root filesystem read-only");
    e.sys("mount_setattr", [K.AT_FDCWD, b.str("/"), 0, e.mountAttr(K.MOUNT_ATTR_RDONLY, 0, 0), 32]);
  }
  if (proc.oomScoreAdj !== undefined) {
    b.step(`set oom_score_adj to ${proc.oomScoreAdj}`);
    e.writeFile("/proc/self/oom_score_adj", String(proc.oomScoreAdj));
  }
  for (const rl of proc.rlimits ?? []) {
    const res = K.RLIMIT[rl.type];
    if (res === undefined) throw new ConfigError("process.rlimits", `unknown rlimit "${rl.type}"`);
    b.step(`set ${rl.type}`);
    e.sys("prlimit64", [0, res, b.words([clampU64(rl.soft), clampU64(rl.hard)]), 0]);
  }

  // sync "created": OCI create stops here; the runtime sends the hook state along
  const startHooks = config.hooks?.startContainer ?? [];
  const stateFd = startHooks.length > 0 ? b.slot() : undefined;
  if (stateFd) {
    b.step("prepare the state for startContainer hooks");
    e.sys("memfd_create", [b.str("state"), 1 /* MFD_CLOEXEC */], { slot: stateFd });
  }
  b.step("report the container created");
  b.op(Op.READY, [Ready.CREATED, stateFd?.slot ?? 0, stateFd ? 1 : 0]);
  readies.push(Ready.CREATED);
  if (fifo) {
    b.step("wait for start");
    b.op(Op.WAIT_FD, [fifo.slot]);
    e.close(fifo);
  }
  startHooks.forEach((h, i) => planStartHook(e, h, i, stateFd!));

  b.step("start a new session");
  e.sys("setsid", []);
  if (slave) {
    b.step("make the terminal the controlling terminal");
    for (const fd of [0, 1, 2]) e.sys("dup3", [slave, fd, 0]);
    e.sys("ioctl", [0, K.TIOCSCTTY, 0]);
    e.close(slave);
  }
  planProcessStart(e, { proc, host: req.host, seccomp: req.seccomp, preserveFds: req.preserveFds, firstPreservedFd: req.firstPreservedFd, init: req.init });
  return { mode: req.mode, plan: b.finish(), steps: b.steps, readies, cloneFlags: ns.clone };
}

/**
 * The image's layers as an overlay, mounted in the container's own mount
 * namespace (it goes away with the container). Kernels from 6.8 take one
 * "lowerdir+" per layer (no limit on the number of layers); older ones get
 * mount(2) with one page of options.
 */
function planOverlay(e: Emitter, o: NonNullable<LaunchRequest["overlay"]>, target: string, host: HostFacts): void {
  const b = e.b;
  b.step(`mount the image's ${o.lower.length} layers at ${target}`);
  const [ma = 0, mi = 0] = host.kernel ?? [0, 0];
  if (ma > 6 || (ma === 6 && mi >= 8)) {
    const data: [string, string][] = [...o.lower].reverse().map((l) => ["lowerdir+", l] as [string, string]);
    data.push(["upperdir", o.upper], ["workdir", o.work]);
    const m = e.newFs("overlay", "overlay", data, 0);
    const t = b.slot();
    e.sys("openat", [K.AT_FDCWD, b.str(target), K.O_PATH | K.O_DIRECTORY | K.O_CLOEXEC, 0], { slot: t });
    e.moveMount(m, t);
    e.close(m);
    e.close(t);
    return;
  }
  const opts = `lowerdir=${[...o.lower].reverse().join(":")},upperdir=${o.upper},workdir=${o.work}`;
  if (opts.length >= 4096)
    throw new ConfigError("image", `${o.lower.length} layers need a kernel with overlay "lowerdir+" (6.8 or later)`);
  e.sys("mount", [b.str("overlay"), b.str(target), b.str("overlay"), 0, b.str(opts)]);
}

/**
 * In the child right after clone: close the cgroup directory fd (it was only
 * for CLONE_INTO_CGROUP) and move itself into each v1 hierarchy's cgroup (it
 * is single-threaded, so moving the thread moves the process), before any
 * setup runs. Shared by the init and `exec`.
 */
export function planCgroupPlacement(e: Emitter, cg: LaunchCgroup | undefined): void {
  const b = e.b;
  if (cg?.fd !== undefined) {
    b.step("close the cgroup directory");
    e.sys("close", [cg.fd], { okErrno: "any" });
  }
  const zero = cg?.v1Tasks.length ? b.str("0") : 0;
  for (const t of cg?.v1Tasks ?? []) {
    b.step(`join the container's ${t.name} cgroup`);
    e.sys("write", [t.fd, zero, 1]);
    e.sys("close", [t.fd], { okErrno: "any" });
  }
}

/** In the trampoline after clone: the cgroup fds were only for the child. */
export function closeCgroupFds(e: Emitter, cg: LaunchCgroup | undefined): void {
  for (const fd of [...(cg?.fd !== undefined ? [cg.fd] : []), ...(cg?.v1Tasks ?? []).map((t) => t.fd)]) e.sys("close", [fd], { okErrno: "any" });
}

function planSysctls(e: Emitter, config: OciConfig): void {
  for (const [key, value] of Object.entries(config.linux?.sysctl ?? {})) {
    e.b.step(`set sysctl ${key}`);
    e.writeFile(`/proc/sys/${key.replaceAll(".", "/")}`, value);
  }
}

function planStartHook(e: Emitter, h: OciHook, i: number, state: Slot): void {
  const b = e.b;
  b.step(`run startContainer hook ${i} (${h.path})`);
  const fork = b.op(Op.FORK_WAIT, [0, 0, 0]);
  const body = b.label(), end = b.label(), after = b.label();
  b.target(fork, 0, body);
  b.target(fork, 1, end);
  b.target(fork, 2, after);
  b.here(body);
  e.sys("dup3", [state, 0, 0]);
  e.sys("lseek", [0, 0, 0]);
  planExec(e, h.path, h.args?.length ? h.args : [h.path], h.env ?? [], [h.path]);
  b.here(end);
  b.here(after);
}

function validateNamespaceUse(config: OciConfig, has: Set<string>): void {
  if (config.hostname !== undefined && !has.has("uts"))
    throw new ConfigError("hostname", "setting the hostname needs a uts namespace (it would rename the host)");
  if (config.domainname !== undefined && !has.has("uts"))
    throw new ConfigError("domainname", "setting the domain name needs a uts namespace");
  if ((config.linux?.uidMappings?.length || config.linux?.gidMappings?.length) && !has.has("user"))
    throw new ConfigError("linux.uidMappings", "uid/gid mappings need a user namespace");
  for (const key of Object.keys(config.linux?.sysctl ?? {})) {
    const path = `linux.sysctl.${key}`;
    const ns = sysctlNamespace(key);
    if (!ns) throw new ConfigError(path, `sysctl "${key}" is not namespaced: it would change the host`);
    if (!has.has(ns)) throw new ConfigError(path, `this sysctl needs a ${ns} namespace (it would change the host's)`);
  }
}

function clampU64(n: number): bigint {
  if (n < 0) return 0xffffffffffffffffn;
  if (!Number.isFinite(n) || n >= 1.8446744073709552e19) return 0xffffffffffffffffn;
  return BigInt(Math.floor(n));
}
