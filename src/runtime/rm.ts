/** `pelagos rm [-f] NAME...`: forget exited containers; -f kills running ones first. */
import { rmSync } from "node:fs";
import * as sys from "../../ffi/sys.ts";
import type { Context } from "../cli/context.ts";
import { PelagosError } from "../errors.ts";
import { stderr } from "../log/logger.ts";
import { isAlive, processStartTime } from "../state/identity.ts";
import { containerDir } from "../state/paths.ts";
import { readContainerState } from "./container-state.ts";
import { validateName } from "./run-rootfs.ts";
import { cgroupOf, destroyCgroup, killCgroup } from "./cgroup-setup.ts";
import { releaseImage } from "./run-image.ts";

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
  const s = readContainerState(ctx.root, name);
  if (!s) throw new PelagosError("E_NOT_FOUND", `No such container: "${name}"`);
  const init = { pid: s.pid, startTime: s.pid_start_time ?? -1 };
  if (s.status !== "exited" && isAlive(init)) {
    if (!o.force) throw new PelagosError("E_RUNNING", `Cannot remove container "${name}": it is running (stop it first, or use --force)`);
    // every process of the container, also what forked away from the init
    await killCgroup(cgroupOf(s.cgroup));
    let fd: number | undefined;
    try {
      fd = sys.pidfdOpen(s.pid);
      if (processStartTime(s.pid) === init.startTime) sys.pidfdSendSignal(fd, 9);
    } catch {
      /* already gone */
    } finally {
      if (fd !== undefined) sys.close(fd);
    }
    const deadline = Date.now() + 10_000;
    while (isAlive(init) && Date.now() < deadline) await Bun.sleep(5);
  }
  await destroyCgroup(cgroupOf(s.cgroup));
  rmSync(containerDir(ctx.root, name), { recursive: true, force: true });
  if (s.image) await releaseImage(name);
}
