/** Writes a user namespace's uid/gid maps from the runtime (the init waits for them). */
import { writeFileSync } from "node:fs";
import { idmappedTree } from "../../ffi/idmap.ts";
import type { SysError } from "../../ffi/errno.ts";
import * as sys from "../../ffi/sys.ts";
import { PelagosError } from "../errors.ts";
import type { OciConfig } from "../oci/runtime/config.ts";

export function writeIdMaps(pid: number, config: OciConfig): void {
  const fmt = (m: { containerID: number; hostID: number; size: number }[] | undefined) =>
    (m ?? []).map((x) => `${x.containerID} ${x.hostID} ${x.size}\n`).join("");
  const uid = fmt(config.linux?.uidMappings);
  const gid = fmt(config.linux?.gidMappings);
  try {
    if (gid) writeFileSync(`/proc/${pid}/gid_map`, gid);
    if (uid) writeFileSync(`/proc/${pid}/uid_map`, uid);
  } catch (e) {
    throw new PelagosError("E_USERNS", `Cannot write the user namespace mappings of process ${pid}: ${(e as Error).message}`);
  }
}

/**
 * The root filesystem as a detached tree idmapped with the init's user
 * namespace (maps already written): files owned by host uid N appear as
 * container uid N. Needs a filesystem with idmapped-mount support (ext4, xfs,
 * btrfs, tmpfs, overlayfs... on recent kernels).
 */
export function idmappedRootfs(pid: number, rootfs: string): number {
  const ns = sys.open(`/proc/${pid}/ns/user`, sys.O_RDONLY);
  try {
    return idmappedTree(rootfs, ns);
  } catch (e) {
    const code = (e as SysError).code ?? String(e);
    const hint = code === "EINVAL" ? " (the filesystem does not support idmapped mounts; use --userns host)" : "";
    throw new PelagosError("E_USERNS", `Cannot mount the root filesystem "${rootfs}" idmapped: ${(e as Error).message}${hint}`, { cause: e });
  } finally {
    sys.close(ns);
  }
}
