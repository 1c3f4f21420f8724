/** Writes a user namespace's uid/gid maps from the runtime (the init waits for them). */
import { writeFileSync } from "node:fs";
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
