/**
 * Rules that span several fields, run after the schema accepted the document. Each throws a
 * ConfigError pointing at the value a user would edit to fix the problem.
 */
import { ConfigError } from "../../errors.ts";
import type { OciConfig } from "./config.ts";
import { U32_MAX, type OciIdMapping } from "./fields.ts";
import { joinPath } from "./issue-path.ts";

export function checkConfig(config: OciConfig): void {
  checkRlimits(config);
  checkNamespaces(config);
  checkIdMappings(config);
  checkDevices(config);
  checkSeccomp(config);
}

function checkRlimits(config: OciConfig): void {
  const rlimits = config.process?.rlimits ?? [];
  const seen = new Map<string, number>();
  rlimits.forEach((r, i) => {
    const at = `process.rlimits[${i}]`;
    const first = seen.get(r.type);
    if (first !== undefined) throw new ConfigError(`${at}.type`, `duplicates "${r.type}" set at process.rlimits[${first}]`);
    seen.set(r.type, i);
    if (r.soft > r.hard) throw new ConfigError(`${at}.soft`, `must not exceed hard (${r.hard}), got ${r.soft}`);
  });
}

function checkNamespaces(config: OciConfig): void {
  const namespaces = config.linux?.namespaces ?? [];
  const seen = new Map<string, number>();
  namespaces.forEach((ns, i) => {
    const first = seen.get(ns.type);
    if (first !== undefined) {
      throw new ConfigError(`linux.namespaces[${i}].type`, `duplicates "${ns.type}" set at linux.namespaces[${first}]`);
    }
    seen.set(ns.type, i);
  });
  // A uts entry joined by path still gives the container a UTS namespace the runtime may name.
  const hint = (what: string) => `requires a "${what}" entry in linux.namespaces`;
  if (config.hostname !== undefined && !seen.has("uts")) throw new ConfigError("hostname", hint("uts"));
  if (config.domainname !== undefined && !seen.has("uts")) throw new ConfigError("domainname", hint("uts"));
  for (const key of ["uidMappings", "gidMappings"] as const) {
    if ((config.linux?.[key]?.length ?? 0) > 0 && !seen.has("user")) {
      throw new ConfigError(`linux.${key}`, hint("user"));
    }
  }
}

function checkIdMappings(config: OciConfig): void {
  checkMappingList("linux.uidMappings", config.linux?.uidMappings);
  checkMappingList("linux.gidMappings", config.linux?.gidMappings);
  config.mounts?.forEach((m, i) => {
    checkMappingList(`mounts[${i}].uidMappings`, m.uidMappings);
    checkMappingList(`mounts[${i}].gidMappings`, m.gidMappings);
  });
}

/**
 * The kernel refuses a map whose ranges reach (u32)-1 or overlap on either side
 * (map_write in kernel/user_namespace.c); catch it here with a path instead of EINVAL later.
 */
function checkMappingList(base: string, maps: OciIdMapping[] | undefined): void {
  if (maps === undefined) return;
  maps.forEach((m, i) => {
    const at = joinPath(base, i);
    for (const side of ["containerID", "hostID"] as const) {
      if (m[side] + m.size > U32_MAX) {
        throw new ConfigError(`${at}.size`, `must keep the range below 4294967295, got ${side} ${m[side]} + size ${m.size}`);
      }
      for (let j = 0; j < i; j++) {
        const o = maps[j]!;
        if (m[side] < o[side] + o.size && o[side] < m[side] + m.size) {
          throw new ConfigError(`${at}.${side}`, `must not overlap ${joinPath(base, j)}, got ${m[side]} (size ${m.size})`);
        }
      }
    }
  });
}

function checkDevices(config: OciConfig): void {
  config.linux?.devices?.forEach((d, i) => {
    if (d.type === "p") return;
    for (const key of ["major", "minor"] as const) {
      if (d[key] === undefined) throw new ConfigError(`linux.devices[${i}].${key}`, `is required for device type "${d.type}"`);
    }
  });
}

const ERRNO_ACTIONS = new Set(["SCMP_ACT_ERRNO", "SCMP_ACT_TRACE"]);

function checkSeccomp(config: OciConfig): void {
  const s = config.linux?.seccomp;
  if (s === undefined) return;
  const onlyErrno = "is only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE";
  if (s.defaultErrnoRet !== undefined && !ERRNO_ACTIONS.has(s.defaultAction)) {
    throw new ConfigError("linux.seccomp.defaultErrnoRet", `${onlyErrno}, got defaultAction "${s.defaultAction}"`);
  }
  let notify = s.defaultAction === "SCMP_ACT_NOTIFY";
  s.syscalls?.forEach((call, i) => {
    if (call.errnoRet !== undefined && !ERRNO_ACTIONS.has(call.action)) {
      throw new ConfigError(`linux.seccomp.syscalls[${i}].errnoRet`, `${onlyErrno}, got action "${call.action}"`);
    }
    if (call.action === "SCMP_ACT_NOTIFY") notify = true;
  });
  if (notify && s.listenerPath === undefined) {
    throw new ConfigError("linux.seccomp.listenerPath", "is required when an action is SCMP_ACT_NOTIFY");
  }
}
