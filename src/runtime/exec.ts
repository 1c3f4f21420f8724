/**
 * `pelagos exec`: a new process in a running `pelagos run` container. Its
 * plan (plan/join.ts planExecIn) is built from the container's stored OCI
 * config with the same builders as the init — capabilities, seccomp filter,
 * no_new_privs, user — so exec is never a way around the container's limits.
 * Flags only change what docker lets them change: user, env, cwd, terminal.
 */
import * as sys from "../../ffi/sys.ts";
import type { Context } from "../cli/context.ts";
import { PelagosError, UsageError } from "../errors.ts";
import type { OciConfig, OciProcess } from "../oci/runtime/config.ts";
import { readlinkSync } from "node:fs";
import * as K from "../../ffi/consts.ts";
import { NS_FLAGS, planNamespaces } from "../plan/namespaces.ts";
import { planExecIn } from "../plan/join.ts";
import { Ready } from "../plan/ready.ts";
import { spawnContainer } from "../spawn/spawn.ts";
import { processStartTime } from "../state/identity.ts";
import { copyWindowSize } from "./console.ts";
import { SignalForwarder, waitForeground } from "./foreground.ts";
import { hostFacts } from "./host-facts.ts";
import { loadConfig, loadState, observe } from "./observe.ts";
import { mergeEnv, parseEnvEntry, resolveUser } from "./run-options.ts";
import { validateName } from "./run-rootfs.ts";
import { compileSeccompFor } from "./seccomp.ts";
import { passCgroupFds, placementFromState } from "./cgroup-setup.ts";

export type ExecOptions = {
  name: string;
  command: string[];
  interactive: boolean;
  tty: boolean;
  detach: boolean;
  env: string[];
  workdir?: string;
  user?: string;
};

export function execProcess(base: OciProcess, rootfs: string, o: ExecOptions): OciProcess {
  const env = [...(base.env ?? [])];
  for (const e of o.env) {
    const v = parseEnvEntry(e, "--env", process.env);
    if (v !== undefined) env.push(v);
  }
  if (o.workdir !== undefined && !o.workdir.startsWith("/")) throw new UsageError(`Invalid --workdir "${o.workdir}": it must be absolute`);
  const user = o.user === undefined ? base.user : (({ uid, gid, additionalGids }) => ({ uid, gid, additionalGids, umask: base.user.umask }))(resolveUser(o.user, rootfs));
  return { ...base, args: o.command, env: mergeEnv(env), cwd: o.workdir ?? base.cwd, user, terminal: o.tty, consoleSize: undefined };
}

/** Every namespace the container has (created or joined); the user namespace only when it is not ours (EINVAL). */
function containerNamespaces(pid: number, config: OciConfig): number {
  let flags = 0;
  for (const t of planNamespaces(config.linux?.namespaces).has) flags |= NS_FLAGS[t]!;
  const ns = (p: string) => {
    try {
      return readlinkSync(p);
    } catch {
      return undefined;
    }
  };
  if (ns(`/proc/${pid}/ns/user`) === ns("/proc/self/ns/user")) flags &= ~K.CLONE_NEWUSER;
  return flags;
}

export async function execIn(ctx: Context, o: ExecOptions): Promise<number> {
  if (o.command.length === 0) throw new UsageError(`"pelagos exec" needs a command to run`);
  if (o.tty && o.detach) throw new UsageError("exec -d with a terminal (-t) is not supported");
  const name = validateName(o.name);
  const s = loadState(ctx.root, name);
  const ob = observe(ctx.root, s);
  if (!ob.initAlive) throw new PelagosError("E_STATE", `Cannot exec in container "${name}": it is not running`);
  const config = loadConfig(ctx.root, name);
  if (!config.process) throw new PelagosError("E_STATE", `Container "${name}" has no process in its stored configuration`);
  const host = hostFacts();
  // the container's own view of /etc/passwd (an image's overlay exists only in its mount namespace)
  const proc = execProcess(config.process, `/proc/${s.pid}/root`, o);
  const seccomp = await compileSeccompFor(config, host, ctx.log, `${ctx.root}/.seccomp`);
  // the container's cgroup: its limits and accounting apply to what exec starts
  const cgroup = placementFromState(s.cgroup);
  const toClose: number[] = [];
  let ours: number | undefined;
  const extraFds: number[] = [];
  if (o.tty) {
    const [a, theirs] = sys.socketpair();
    ours = a;
    toClose.push(a, theirs);
    extraFds.push(theirs);
  }
  const launchCgroup = passCgroupFds(cgroup, extraFds, toClose);
  const launch = planExecIn({
    pid: s.pid, namespaces: containerNamespaces(s.pid, config), proc, seccomp, consoleFd: o.tty ? 5 : undefined, detach: o.detach, host,
    cgroup: launchCgroup,
  });
  const signals = o.detach ? undefined : new SignalForwarder();
  let master: number | undefined;
  const stdinFd = o.interactive ? 0 : sys.open("/dev/null", sys.O_RDONLY | sys.O_CLOEXEC);
  if (!o.interactive) toClose.push(stdinFd);
  const nul = o.detach ? sys.open("/dev/null", sys.O_RDWR | sys.O_CLOEXEC) : undefined;
  if (nul !== undefined) toClose.push(nul);
  try {
    // the recorded start time pins the container: a recycled pid is refused before we join anything
    if (processStartTime(s.pid) !== s.pid_start_time) throw new PelagosError("E_STATE", `Cannot exec in container "${name}": it is not running`);
    const spawned = await spawnContainer({
      launch,
      stdio: nul !== undefined ? [nul, nul, nul] : [stdinFd, "inherit", "inherit"],
      extraFds,
      onReady: (kind, pid) => {
        if (kind === Ready.CONSOLE && ours !== undefined) {
          master = sys.recvFd(ours);
          copyWindowSize(master);
        }
      },
    });
    for (const fd of toClose.splice(0)) sys.close(fd);
    if (o.detach) {
      spawned.trampoline.unref();
      return 0;
    }
    return await waitForeground({ pid: spawned.pid, startTime: 0, trampoline: spawned.trampoline, master, cloneFlags: 0 }, { interactive: o.interactive, signals: signals! });
  } catch (e) {
    signals?.dispose();
    if (master !== undefined) sys.close(master);
    throw e;
  } finally {
    cgroup?.closeDirfd();
    for (const fd of toClose) sys.close(fd);
  }
}
