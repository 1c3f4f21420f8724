/** OCI `delete`: remove a stopped (or, with --force, any) container and run poststop hooks. */
import { rmdirSync, rmSync } from "node:fs";
import type { Context } from "../../cli/context.ts";
import { StateError } from "../../errors.ts";
import { runHooks } from "../../hooks/index.ts";
import type { OciConfig } from "../../oci/runtime/config.ts";
import { isAlive } from "../../state/identity.ts";
import { ociDir, validateId } from "../../state/paths.ts";
import { withLock } from "../lock.ts";
import { loadRecord, ociStateJson, statusOf } from "../oci-state.ts";
import { cgroupOf, destroyCgroup } from "../cgroup-setup.ts";
import { killContainer } from "./kill.ts";

/** The container's directory holds state.json and maybe exec.fifo: remove those, then the directory. */
function removeStateDir(dir: string): void {
  for (const f of ["state.json", "exec.fifo"]) rmSync(`${dir}/${f}`, { force: true });
  try {
    rmdirSync(dir);
  } catch {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function destroy(ctx: Context, rawId: string, o: { force: boolean }): Promise<void> {
  const id = validateId(rawId);
  await withLock(ctx.root, id, async () => {
    const r = loadRecord(ctx.root, id);
    const status = statusOf(ctx.root, r);
    if (status === "running" && !o.force)
      throw new StateError("E_STATE", `Cannot delete container "${id}": it is running (stop it first, or use --force)`, { exitCode: 1 });
    if (status === "paused" && !o.force)
      throw new StateError("E_STATE", `Cannot delete container "${id}": it is paused (use --force)`, { exitCode: 1 });
    const cgroup = cgroupOf(r.cgroup);
    if (status === "created" || status === "running" || status === "paused") {
      await killContainer(ctx, r, 9, { all: true });
      const ident = { pid: r.pid, startTime: r.pidStartTime };
      const deadline = Date.now() + 10_000;
      while (isAlive(ident)) {
        if (Date.now() > deadline) throw new StateError("E_STATE", `Cannot delete container "${id}": its init did not die`);
        await Bun.sleep(5);
      }
    }
    // The cgroup goes first: if it cannot be removed the record stays, so delete can be retried.
    await destroyCgroup(cgroup);
    removeStateDir(ociDir(ctx.root, id));
    const config = r.config as OciConfig;
    await runHooks("poststop", config.hooks?.poststop, ociStateJson(ctx.root, r, "stopped")).catch((e) =>
      ctx.log.warn((e as Error).message),
    );
  });
}
