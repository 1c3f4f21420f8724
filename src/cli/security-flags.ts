/** The security flags of `run` (docker's and podman's names); `exec` will share them. */
import { bool, list, str, type FlagDef, type Parsed } from "./argv.ts";
import type { SecurityFlags } from "../runtime/security-options.ts";

export const securityArgs = {
  "cap-add": { type: "string", multiple: true, description: "Add a capability (NET_ADMIN, CAP_SYS_TIME, ALL)" },
  "cap-drop": { type: "string", multiple: true, description: "Drop a capability (applied before --cap-add; ALL drops every one)" },
  privileged: { type: "boolean", description: "Every capability pelagos holds, host devices, no seccomp, writable /sys" },
  "security-opt": { type: "string", multiple: true, description: "seccomp=unconfined|PATH, no-new-privileges[=true|false], systempaths=unconfined" },
  ulimit: { type: "string", multiple: true, description: "Resource limit NAME=SOFT[:HARD] (nofile, nproc, core, ...; -1 = unlimited)" },
  "oom-score-adj": { type: "string", description: "The OOM killer's preference, -1000 to 1000" },
  sysctl: { type: "string", multiple: true, description: "Set a namespaced sysctl KEY=VALUE (net.*, kernel.shm*, ...)" },
  "group-add": { type: "string", multiple: true, description: "Add a supplementary group (name in the container's /etc/group, or number)" },
  userns: { type: "string", description: "User namespace: host (default), auto[:size=N] (from /etc/subuid) or private" },
  uidmap: { type: "string", multiple: true, description: "Map CONTAINER_UID:HOST_UID:SIZE in a new user namespace" },
  gidmap: { type: "string", multiple: true, description: "Map CONTAINER_GID:HOST_GID:SIZE (default: as --uidmap)" },
} satisfies Record<string, FlagDef>;

export function securityFlags(p: Parsed): SecurityFlags {
  return {
    capAdd: list(p, "cap-add"), capDrop: list(p, "cap-drop"), privileged: bool(p, "privileged"),
    securityOpt: list(p, "security-opt"), ulimit: list(p, "ulimit"), oomScoreAdj: str(p, "oom-score-adj"),
    sysctl: list(p, "sysctl"), groupAdd: list(p, "group-add"), userns: str(p, "userns"),
    uidmap: list(p, "uidmap"), gidmap: list(p, "gidmap"),
  };
}
