/**
 * Signals to `pelagos run` containers: stop, kill, wait, rm. Every signal
 * goes through a pidfd opened on the recorded pid and checked against the
 * recorded start time, so a recycled pid is never hit. The init is the
 * application itself (clone(CLONE_NEWPID), no intermediate process), so the
 * stop signal reaches it; the kernel delivers a signal from outside to a PID
 * namespace's init only when it has a handler (why `--init` exists), and
 * SIGKILL to that init ends every process of the namespace.
 */
import * as sys from "../../ffi/sys.ts";
import * as K from "../../ffi/consts.ts";
import { processStartTime } from "../state/identity.ts";
import { readContainerState, type ContainerState } from "./container-state.ts";
import { parseSignal } from "./oci/kill.ts";
import { loadState, observe, type Observed } from "./observe.ts";
import { cgroupOf, isFrozen } from "./cgroup-setup.ts";

/** Sends `sig` to the container's init; false when it is not running. */
export function signalInit(s: ContainerState, sig: number): boolean {
  if (s.pid <= 0) return false;
  let fd: number | undefined;
  try {
    fd = sys.pidfdOpen(s.pid);
    // checked after opening: the pidfd now pins this exact process
    if (processStartTime(s.pid) !== (s.pid_start_time ?? -1)) return false;
    sys.pidfdSendSignal(fd, sig);
    return true;
  } catch {
    return false;
  } finally {
    if (fd !== undefined) sys.close(fd);
  }
}

/** How long a foreground pelagos may take to finish after its init died. */
const OWNER_GRACE_MS = 3000;

/** Waits until the container is no longer running and its supervisor or foreground pelagos recorded the exit. */
export async function waitStopped(root: string, name: string, timeoutMs: number): Promise<Observed | undefined> {
  const deadline = Date.now() + timeoutMs;
  let delay = 2;
  let initGoneAt: number | undefined;
  for (;;) {
    const s = readContainerState(root, name);
    if (!s) return undefined; // removed meanwhile
    const o = observe(root, s);
    // A foreground pelagos is still removing the cgroup and recording the exit just after its
    // init died: wait for it (briefly), or a removal racing its last write leaves a record behind.
    if (!o.initAlive) initGoneAt ??= Date.now();
    const settled = !o.initAlive && (!o.ownerAlive || (!s.detached && Date.now() - initGoneAt! > OWNER_GRACE_MS));
    if (settled || Date.now() >= deadline) return settled || (!o.initAlive && !s.detached) ? o : undefined;
    await Bun.sleep(delay);
    delay = Math.min(delay * 2, 50);
  }
}

export function stopSignalOf(s: ContainerState): number {
  return s.stop_signal ? parseSignal(s.stop_signal) : K.SIGNALS.SIGTERM!;
}

/** A frozen (paused) container gets no signal, not even SIGKILL on a v1 freezer: thaw it first. */
export async function thawIfPaused(s: ContainerState): Promise<void> {
  const m = cgroupOf(s.cgroup);
  if (m && isFrozen(m)) await m.thaw().catch(() => {});
}

/** docker stop: the stop signal, `timeoutS` seconds, then SIGKILL. */
export async function stopOne(root: string, name: string, timeoutS?: number): Promise<void> {
  const s = loadState(root, name);
  if (observe(root, s).status !== "running") return;
  await thawIfPaused(s);
  const t = timeoutS ?? s.stop_timeout ?? 10;
  if (t > 0 && signalInit(s, stopSignalOf(s)) && (await waitStopped(root, name, t * 1000))) return;
  signalInit(s, K.SIGKILL);
  await waitStopped(root, name, 10_000);
}
