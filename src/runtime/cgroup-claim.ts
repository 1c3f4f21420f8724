/**
 * A container's cgroup must be findable even when pelagos is SIGKILLed while
 * making it (between its first mkdir and the record of what it made). Before
 * creating, the leaf dirs it is about to make — those that do not exist yet;
 * the name is ours under its lock — are recorded as `cgroup_claim`; `cleanup`
 * rmdirs those of a start that died (rmdir never removes a cgroup with
 * processes or children in it).
 */
import type { Undo } from "../errors.ts";
import type { OciConfig } from "../oci/runtime/config.ts";
import { hostCgroupFs } from "../cgroups/cgroupfs.ts";
import { hostLayout, type CgroupManager } from "../cgroups/manager.ts";
import { resolvePlacement } from "../cgroups/placement.ts";
import { removeDirs } from "../cgroups/setup.ts";
import { writeContainerState, type ContainerState } from "./container-state.ts";
import { cgroupLeaf, createContainerCgroup } from "./cgroup-setup.ts";

/** The leaf dirs `create` would make for this container that do not exist now. */
export function cgroupLeavesToMake(name: string, config: OciConfig): string[] {
  const layout = hostLayout();
  const rel = resolvePlacement({ id: name, cgroupsPath: config.linux?.cgroupsPath }).rel;
  const mounts = [...layout.v1.map((h) => h.mount), ...(layout.unified ? [layout.unified.mount] : [])];
  return mounts.map((m) => `${m}/${rel}`).filter((d) => !hostCgroupFs.exists(d));
}

/** Records the claim, creates the cgroup, records it; the undo destroys it. */
export async function createRecordedCgroup(root: string, state: ContainerState, config: OciConfig, undo: Undo): Promise<CgroupManager> {
  const leaf = cgroupLeaf(root, state.name);
  state.cgroup_claim = cgroupLeavesToMake(leaf, config);
  writeContainerState(root, state);
  const m = await createContainerCgroup(leaf, config, undo);
  state.cgroup = m.state();
  writeContainerState(root, state);
  return m;
}

/** rmdir of the claimed leaves that are still there (empty ones only: the kernel refuses the others). */
export function removeClaimedLeaves(s: ContainerState): void {
  const left = (s.cgroup_claim ?? []).filter((d) => hostCgroupFs.exists(d));
  removeDirs(left, hostCgroupFs);
}
