/**
 * Where a container's cgroup goes, as a path relative to the root of every
 * hierarchy: v2 `<mount>/<rel>`, v1 `<mount of controller>/<rel>`.
 *
 * - default: `pelagos/<id>` (the parent `pelagos` is ours)
 * - `--cgroup-parent P`: `P/<id>` (P absolute or relative, both from the hierarchy root)
 * - OCI `linux.cgroupsPath`: absolute "/a/b" → "a/b"; relative "a/b" → "pelagos/a/b";
 *   "slice:prefix:name" is the systemd driver's form, which pelagos does not implement.
 */
import { ConfigError, UsageError } from "../errors.ts";

export const DEFAULT_PARENT = "pelagos";

export type PlacementInput = {
  id: string;
  /** --cgroup-parent */
  parent?: string;
  /** OCI linux.cgroupsPath (takes precedence over parent) */
  cgroupsPath?: string;
  /** Whether systemd runs on the host (for the error message only). */
  systemdRunning?: boolean;
};

export type Placement = {
  /** e.g. "pelagos/abc" */
  rel: string;
  /** How many leading components of `rel` are a shared parent (never removed by destroy). */
  parentDepth: number;
};

function clean(path: string, where: string, isConfig: boolean): string[] {
  const parts = path.split("/").filter((p) => p !== "" && p !== ".");
  for (const p of parts) {
    if (p === "..") {
      const msg = `Cannot use cgroup path "${path}": ".." is not allowed`;
      throw isConfig ? new ConfigError(where, `cgroup path "${path}" must not contain ".."`) : new UsageError(msg);
    }
  }
  return parts;
}

/** `slice:prefix:name`, e.g. "system.slice:docker:abc" or ":pelagos:abc". */
export function isSystemdPath(path: string): boolean {
  return /^[^:/]*:[^:/]+:[^:/]+$/.test(path);
}

export function resolvePlacement(input: PlacementInput): Placement {
  const { id, cgroupsPath } = input;
  if (id === "" || id.includes("/") || id === "." || id === "..") {
    throw new UsageError(`Cannot use container id "${id}" as a cgroup name`);
  }
  if (cgroupsPath !== undefined && cgroupsPath !== "") {
    if (isSystemdPath(cgroupsPath)) {
      const why = input.systemdRunning
        ? "pelagos manages cgroups through cgroupfs and has no systemd cgroup driver"
        : "systemd is not running on this host";
      throw new ConfigError(
        "linux.cgroupsPath",
        `cannot use the systemd form "${cgroupsPath}" (slice:prefix:name): ${why}; use an absolute path such as "/pelagos/${id}"`,
      );
    }
    const parts = clean(cgroupsPath, "linux.cgroupsPath", true);
    if (parts.length === 0) throw new ConfigError("linux.cgroupsPath", `cgroup path "${cgroupsPath}" names the root cgroup`);
    if (cgroupsPath.startsWith("/")) return { rel: parts.join("/"), parentDepth: parts.length - 1 };
    return { rel: [DEFAULT_PARENT, ...parts].join("/"), parentDepth: 1 };
  }
  const parent = clean(input.parent ?? DEFAULT_PARENT, "--cgroup-parent", false);
  if (isSystemdPath(input.parent ?? "")) {
    throw new UsageError(`Cannot use cgroup parent "${input.parent}": the systemd slice form is not supported, give a cgroupfs path`);
  }
  return { rel: [...parent, id].join("/"), parentDepth: parent.length };
}
