/**
 * `pelagos start NAME` / `restart`: runs a stopped container again, detached,
 * from its stored OCI config (config.json: everything `run` decided, so
 * nothing is dropped between runs), in the same directory; logs append.
 */
import { rmSync } from "node:fs";
import type { Context } from "../cli/context.ts";
import { PelagosError } from "../errors.ts";
import { processStartTime } from "../state/identity.ts";
import { containerDir } from "../state/paths.ts";
import { writeContainerState } from "./container-state.ts";
import { stopOne } from "./control.ts";
import { launchDetached } from "./detach.ts";
import { removeClaimedLeaves } from "./cgroup-claim.ts";
import { cgroupOf, destroyCgroup, withStoredResources } from "./cgroup-setup.ts";
import { withLock } from "./lock.ts";
import { nameLockId } from "./name-lock.ts";
import { exitFile, loadConfig, loadState, observe } from "./observe.ts";

export async function startAgain(ctx: Context, name: string): Promise<void> {
  await withLock(ctx.root, nameLockId(name), async () => {
    const s = loadState(ctx.root, name);
    const o = observe(ctx.root, s);
    if (o.status === "running") return;
    if (o.status === "created" && o.ownerAlive) throw new PelagosError("E_STATE", `Container "${name}" is still starting`);
    // the limits last set (run flags, then `pelagos update`), and no leftover of the last run's cgroup
    const config = withStoredResources(loadConfig(ctx.root, name), s.resources);
    await destroyCgroup(cgroupOf(s.cgroup));
    removeClaimedLeaves(s);
    delete s.cgroup;
    delete s.cgroup_claim;
    const dir = containerDir(ctx.root, name);
    rmSync(exitFile(ctx.root, name), { force: true });
    Object.assign(s, {
      status: "created" as const, pid: 0, pid_start_time: undefined, watcher_pid: process.pid,
      watcher_start_time: processStartTime(process.pid), started_at: new Date().toISOString(), finished_at: undefined,
      exit_code: undefined, detached: true, restart_count: (s.restart_count ?? 0) + 1, stdout_log: `${dir}/stdout.log`, stderr_log: `${dir}/stderr.log`,
    });
    writeContainerState(ctx.root, JSON.parse(JSON.stringify(s)));
    try {
      await launchDetached(ctx, { config, state: s, interactive: s.interactive === true });
    } catch (e) {
      // the record stays: it is the user's container, now exited with the failure's status
      const code = e instanceof PelagosError ? e.exitCode : 125;
      writeContainerState(ctx.root, { ...s, status: "exited", pid: 0, exit_code: code, finished_at: new Date().toISOString(), detached: false });
      throw e;
    }
  });
}

export async function restartOne(ctx: Context, name: string, timeoutS?: number): Promise<void> {
  await stopOne(ctx.root, name, timeoutS);
  await startAgain(ctx, name);
}
