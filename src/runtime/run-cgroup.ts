/**
 * `pelagos run`'s cgroup flags → the RunSpec fields docker-config.ts turns into
 * `linux.resources` and `linux.cgroupsPath` (so run and OCI bundles share the
 * same path from the config on). Pure apart from stat() of throttled devices.
 */
import { type DockerResourceFlags, dockerResources } from "../cgroups/docker-flags.ts";
import { resolvePlacement } from "../cgroups/placement.ts";
import type { LinuxResources } from "../cgroups/resources.ts";

export function runCgroup(flags: DockerResourceFlags | undefined, parent: string | undefined, name: string): { resources?: LinuxResources; cgroupsPath?: string } {
  const out: { resources?: LinuxResources; cgroupsPath?: string } = {};
  if (flags) out.resources = dockerResources(flags);
  // validated here (a UsageError naming --cgroup-parent), then passed on as an absolute cgroupsPath
  if (parent !== undefined) out.cgroupsPath = `/${resolvePlacement({ id: name, parent }).rel}`;
  return out;
}
