/**
 * Which namespace a sysctl belongs to. Only namespaced sysctls may be set in
 * a container (anything else would change the host); docker's list
 * (moby opts.ValidateSysctl). Pure.
 */
import { UsageError } from "../errors.ts";

export type SysctlNamespace = "network" | "ipc" | "uts";

const IPC = new Set(["kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem", "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"]);

export function sysctlNamespace(key: string): SysctlNamespace | undefined {
  if (key.startsWith("net.")) return "network";
  if (IPC.has(key) || key.startsWith("fs.mqueue.")) return "ipc";
  if (key === "kernel.hostname" || key === "kernel.domainname") return "uts";
  return undefined;
}

/** `--sysctl KEY=VALUE` (keys with "/" are written with "." like docker) */
export function parseSysctls(list: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of list) {
    const eq = s.indexOf("=");
    if (eq <= 0) throw new UsageError(`Invalid --sysctl "${s}": expected KEY=VALUE`);
    const key = s.slice(0, eq).replaceAll("/", ".");
    if (key.split(".").some((p) => p === "" || p === ".." ) || /[\0\s]/.test(key)) throw new UsageError(`Invalid --sysctl "${s}": bad key`);
    if (!sysctlNamespace(key))
      throw new UsageError(`Invalid --sysctl "${s}": "${key}" is not namespaced, setting it would change the host (allowed: net.*, kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.*)`);
    out[key] = s.slice(eq + 1);
  }
  return out;
}
