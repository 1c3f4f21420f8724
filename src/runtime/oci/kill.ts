/** OCI `kill`: a signal to the init (through a pidfd), or with --all to every process of its pid namespace. */
import { readdirSync, statSync } from "node:fs";
import * as sys from "../../../ffi/sys.ts";
import * as K from "../../../ffi/consts.ts";
import type { Context } from "../../cli/context.ts";
import { StateError, UsageError } from "../../errors.ts";
import { processStartTime } from "../../state/identity.ts";
import { validateId } from "../../state/paths.ts";
import { loadRecord, statusOf, type OciRecord } from "../oci-state.ts";
import { cgroupOf, killCgroup } from "../cgroup-setup.ts";

export function parseSignal(s: string): number {
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    if (n < 1 || n > 64) throw new UsageError(`Invalid signal "${s}": expected 1 to 64`);
    return n;
  }
  const name = s.toUpperCase().startsWith("SIG") ? s.toUpperCase() : `SIG${s.toUpperCase()}`;
  const rt = /^SIGRTMIN(\+(\d+))?$/.exec(name) ?? /^SIGRTMAX(-(\d+))?$/.exec(name);
  if (rt) {
    const base = name.startsWith("SIGRTMIN") ? 34 : 64;
    const n = name.startsWith("SIGRTMIN") ? base + Number(rt[2] ?? 0) : base - Number(rt[2] ?? 0);
    if (n >= 34 && n <= 64) return n;
  }
  const n = K.SIGNALS[name];
  if (n === undefined) throw new UsageError(`Unknown signal "${s}"`);
  return n;
}

export async function killOci(ctx: Context, rawId: string, signal: number, o: { all: boolean }): Promise<void> {
  const id = validateId(rawId);
  const r = loadRecord(ctx.root, id);
  const status = statusOf(ctx.root, r);
  if (status !== "running" && status !== "created" && status !== "paused")
    throw new StateError("E_STATE", `Cannot kill container "${id}": it is ${status}`, { exitCode: 1 });
  await killContainer(ctx, r, signal, o);
}

/**
 * --all with a cgroup: every process in it (what forked or setsid'd cannot escape); SIGKILL through
 * killAll (cgroup.kill, or freeze + kill + thaw until empty). Without a cgroup (a record from before
 * cgroups): the init's pid namespace.
 */
export async function killContainer(_ctx: Context, r: OciRecord, signal: number, o: { all: boolean }): Promise<void> {
  const cgroup = o.all ? cgroupOf(r.cgroup) : undefined;
  if (cgroup) {
    if (signal === 9) await killCgroup(cgroup);
    else {
      // a stopped process only sees the signal once thawed; runc likewise leaves a paused container paused
      for (const pid of cgroup.pids()) sys.tryKill(pid, signal);
    }
    return;
  }
  let pidfd: number;
  try {
    pidfd = sys.pidfdOpen(r.pid);
  } catch {
    return;
  }
  try {
    // the pidfd pins the process: check it is still the container's init, then signal it
    if (processStartTime(r.pid) !== r.pidStartTime) return;
    try {
      sys.pidfdSendSignal(pidfd, signal);
    } catch {
      /* exited meanwhile */
    }
    // --all: every process of the container's own pid namespace. Without one
    // (host pid namespace) only the init: the namespace is the host's.
    if (o.all && (r.cloneFlags & K.CLONE_NEWPID) !== 0 && signal !== 9) {
      for (const pid of pidsInNamespace(r.pid)) if (pid !== r.pid) sys.tryKill(pid, signal);
    }
  } finally {
    sys.close(pidfd);
  }
}

/** Host pids whose pid namespace is the init's (compared by the namespace inode). */
function pidsInNamespace(init: number): number[] {
  let ino: number;
  try {
    ino = statSync(`/proc/${init}/ns/pid`).ino;
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const e of readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (statSync(`/proc/${e}/ns/pid`).ino === ino) out.push(Number(e));
    } catch {
      /* gone */
    }
  }
  return out;
}
