/** `pelagos rm [-f] NAME...`: forget stopped containers; -f kills running ones first. */
import type { Context } from "../cli/context.ts";
import { PelagosError } from "../errors.ts";
import * as K from "../../ffi/consts.ts";
import { stderr } from "../log/logger.ts";
import { signalInit, thawIfPaused, waitStopped } from "./control.ts";
import { removeContainerDir } from "./detach.ts";
import { loadState, observe } from "./observe.ts";
import { validateName } from "./run-rootfs.ts";
import { cgroupOf, destroyCgroup, killCgroup } from "./cgroup-setup.ts";
import { releaseImage } from "./run-image.ts";
import { removeClaimedLeaves } from "./cgroup-claim.ts";

export async function removeContainers(ctx: Context, names: string[], o: { force: boolean }): Promise<number> {
  let failed = 0;
  for (const raw of names) {
    try {
      await removeOne(ctx, validateName(raw), o);
      console.log(raw);
    } catch (e) {
      failed++;
      stderr(`pelagos: error: ${(e as Error).message}\n`);
    }
  }
  return failed ? 1 : 0;
}

async function removeOne(ctx: Context, name: string, o: { force: boolean }): Promise<void> {
  const s = loadState(ctx.root, name);
  const ob = observe(ctx.root, s);
  if (ob.initAlive || (s.detached && ob.ownerAlive)) {
    if (!o.force) throw new PelagosError("E_RUNNING", `Cannot remove container "${name}": it is running (stop it first, or use --force)`);
    // every process of the container, also what forked away from the init; a detached
    // container's supervisor tears its cgroup down itself once the init died (SIGKILL of a
    // PID namespace's init ends every process in it), and must not race a freezer-based kill
    if (!(s.detached && ob.ownerAlive)) await killCgroup(cgroupOf(s.cgroup));
    else await thawIfPaused(s);
    signalInit(s, K.SIGKILL);
    // a supervisor still starting (no init recorded yet) is ended by the hand-over failing; give it time
    if (!(await waitStopped(ctx.root, name, 10_000)))
      throw new PelagosError("E_RUNNING", `Cannot remove container "${name}": it did not stop within 10 s`);
  }
  await destroyCgroup(cgroupOf(s.cgroup));
  removeClaimedLeaves(s);
  removeContainerDir(ctx.root, name);
  if (s.image) await releaseImage(name);
}
