/**
 * The entry point for running OCI hooks. Most containers have none, so the
 * runner (and the join plan it needs for createContainer hooks) is loaded
 * only when a hook list is not empty: it stays off the start-up path.
 */
import type { OciHook } from "../oci/runtime/config.ts";
import type { HostFacts } from "../plan/host.ts";
import type { HookKind } from "./run.ts";

export type { HookKind };

export async function runHooks(
  kind: HookKind,
  hooks: readonly OciHook[] | undefined,
  state: object,
  join?: { pid: number; namespaces: number; host: HostFacts },
): Promise<void> {
  if (!hooks?.length) return;
  const { runHooks: run } = await import("./run.ts");
  return run(kind, hooks, state, join);
}
