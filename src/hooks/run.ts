/**
 * OCI hooks. prestart, createRuntime, poststart and poststop run in the
 * runtime's namespaces; createContainer runs in the container's namespaces
 * (through a join plan); startContainer hooks run inside the container's init
 * (they are part of the launch plan). Each gets the container state on stdin
 * and its own timeout.
 */
import type { OciHook } from "../oci/runtime/config.ts";
import { PelagosError } from "../errors.ts";
import { planJoinExec } from "../plan/join.ts";
import type { HostFacts } from "../plan/host.ts";
import { spawnContainer } from "../spawn/spawn.ts";
import * as sys from "../../ffi/sys.ts";

/** A readable fd holding `data` at offset 0 (a fresh open of a memfd). */
function memfdWith(data: Uint8Array): number {
  const m = sys.memfdCreate("hook-state", sys.MFD_CLOEXEC);
  try {
    sys.writeAll(m, data);
    return sys.open(`/proc/self/fd/${m}`, sys.O_RDONLY);
  } finally {
    sys.close(m);
  }
}

export type HookKind = "prestart" | "createRuntime" | "createContainer" | "startContainer" | "poststart" | "poststop";

export async function runHooks(
  kind: HookKind,
  hooks: readonly OciHook[] | undefined,
  state: object,
  join?: { pid: number; namespaces: number; host: HostFacts },
): Promise<void> {
  for (const [i, h] of (hooks ?? []).entries()) {
    const stdin = Buffer.from(JSON.stringify(state));
    const what = `${kind} hook ${i} ("${h.path}")`;
    let code: number | null;
    let stderr = "";
    if (join) {
      const launch = planJoinExec({ pid: join.pid, namespaces: join.namespaces, path: h.path, args: h.args?.length ? h.args : [h.path], env: h.env ?? [], host: join.host });
      const inFd = memfdWith(stdin);
      try {
        const s = await spawnContainer({ launch, stdio: [inFd, "inherit", "inherit"] });
        code = await withTimeout(s.trampoline.exited, h.timeout, () => s.trampoline.kill(9));
      } finally {
        sys.close(inFd);
      }
    } else {
      const p = Bun.spawn([h.path, ...(h.args ?? [h.path]).slice(1)], {
        argv0: h.args?.[0] ?? h.path,
        env: Object.fromEntries((h.env ?? []).map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)])),
        stdin,
        stdout: "inherit",
        stderr: "pipe",
      });
      code = await withTimeout(p.exited, h.timeout, () => p.kill(9));
      stderr = (await new Response(p.stderr).text()).trim();
    }
    if (code === null) throw new PelagosError("E_HOOK", `The ${what} timed out after ${h.timeout} s`);
    if (code !== 0) throw new PelagosError("E_HOOK", `The ${what} failed with status ${code}${stderr ? `: ${stderr}` : ""}`);
  }
}

async function withTimeout(p: Promise<number>, seconds: number | undefined, kill: () => void): Promise<number | null> {
  if (!seconds) return p;
  let timer: Timer | undefined;
  const t = new Promise<null>((r) => {
    timer = setTimeout(() => {
      kill();
      r(null);
    }, seconds * 1000);
  });
  const r = await Promise.race([p, t]);
  clearTimeout(timer);
  return r;
}
