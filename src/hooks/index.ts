/**
 * The entry point for running OCI hooks. Most containers have none, so the
 * runner (and the join plan it needs for createContainer hooks) is loaded
 * only when a hook list is not empty: it stays off the start-up path.
 */
import type { HookKind, runHooks as Run } from "./run.ts";

export type { HookKind };

export async function runHooks(...args: Parameters<typeof Run>): ReturnType<typeof Run> {
  if (!args[1]?.length) return;
  const { runHooks: run } = await import("./run.ts");
  return run(...args);
}
