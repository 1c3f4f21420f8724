/**
 * Shared by the lifecycle-*.test.ts files: a runtime root whose `pelagos run`
 * containers are force-removed after the file (the generic cleanup only knows
 * OCI containers), and a scan for container processes by a unique argument.
 */
import { afterAll } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { createRuntimeRoot, type RunResult, type RuntimeRoot } from "../helpers/pelagos.ts";

export function useLifecycleRoot(): RuntimeRoot {
  const rt = createRuntimeRoot();
  afterAll(async () => {
    await removeAll(rt);
    await rt.cleanup();
  }, 120_000);
  return rt;
}

export async function removeAll(rt: RuntimeRoot): Promise<void> {
  const names = (await rt.run(["ps", "-aq"], { timeoutMs: 15_000 })).stdout.split("\n").filter(Boolean);
  if (names.length) await rt.run(["rm", "-f", ...names], { timeoutMs: 60_000 });
  // records ps cannot read (a test corrupted them) still have directories
  try {
    const left = readdirSync(`${rt.root}/containers`).filter((n) => !n.startsWith("."));
    if (left.length) await rt.run(["rm", "-f", ...left], { timeoutMs: 60_000 });
  } catch {
    /* no containers dir */
  }
}

/** Host pids of processes whose argv contains `marker` as one argument. */
export function pidsWithArg(marker: string): number[] {
  const out: number[] = [];
  for (const e of readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const argv = readFileSync(`/proc/${e}/cmdline`, "utf8").split("\0");
      if (argv.includes(marker)) out.push(Number(e));
    } catch {
      /* gone */
    }
  }
  return out;
}

export function lines(r: RunResult): string[] {
  return r.stdout.split("\n").filter(Boolean);
}

export async function until(cond: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await cond()) return true;
    await Bun.sleep(20);
  }
  return cond();
}
