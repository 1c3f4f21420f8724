/** OCI namespaces → clone flags and namespaces to join by path. Pure. */
import * as K from "../../ffi/consts.ts";
import { ConfigError } from "../errors.ts";
import type { OciNamespace } from "../oci/runtime/config.ts";

export const NS_FLAGS: Record<string, number> = {
  mount: K.CLONE_NEWNS, uts: K.CLONE_NEWUTS, ipc: K.CLONE_NEWIPC, user: K.CLONE_NEWUSER,
  pid: K.CLONE_NEWPID, network: K.CLONE_NEWNET, cgroup: K.CLONE_NEWCGROUP, time: K.CLONE_NEWTIME,
};

/** The order namespaces are joined in: user first (it decides what the others allow), mount last. */
const JOIN_ORDER = ["user", "ipc", "uts", "network", "pid", "cgroup", "time", "mount"];

export type NamespacePlan = {
  /** flags for clone3: namespaces created new */
  clone: number;
  /** namespaces entered from an existing path, in join order */
  join: { type: string; path: string; flag: number }[];
  /** every namespace type the container has of its own (created or joined) */
  has: Set<string>;
};

export function planNamespaces(list: readonly OciNamespace[] | undefined): NamespacePlan {
  const plan: NamespacePlan = { clone: 0, join: [], has: new Set() };
  (list ?? []).forEach((ns, i) => {
    const flag = NS_FLAGS[ns.type];
    if (flag === undefined) throw new ConfigError(`linux.namespaces[${i}].type`, `unknown namespace type "${ns.type}"`);
    if (plan.has.has(ns.type)) throw new ConfigError(`linux.namespaces[${i}].type`, `namespace "${ns.type}" listed twice`);
    plan.has.add(ns.type);
    if (ns.path) plan.join.push({ type: ns.type, path: ns.path, flag });
    else plan.clone |= flag;
  });
  plan.join.sort((a, b) => JOIN_ORDER.indexOf(a.type) - JOIN_ORDER.indexOf(b.type));
  return plan;
}
