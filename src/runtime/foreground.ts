/**
 * A foreground container: forward the signals a user sends to pelagos to the
 * container's init (through a pidfd, so a recycled pid is never hit), relay
 * its terminal, and return docker's exit status (the trampoline mirrors it:
 * the code, or 128+signal).
 */
import * as sys from "../../ffi/sys.ts";
import { relayConsole } from "./console.ts";
import type { Init } from "./start-init.ts";

const FORWARDED = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2"] as const;
const NUM: Record<string, number> = { SIGINT: 2, SIGTERM: 15, SIGHUP: 1, SIGQUIT: 3, SIGUSR1: 10, SIGUSR2: 12 };

export async function waitForeground(init: Init, o: { interactive: boolean }): Promise<number> {
  let pidfd: number | undefined;
  try {
    pidfd = sys.pidfdOpen(init.pid);
  } catch {
    /* already gone: the status comes from the trampoline */
  }
  const handlers = FORWARDED.map((sig) => {
    const h = () => {
      try {
        if (pidfd !== undefined) sys.pidfdSendSignal(pidfd, NUM[sig]!);
      } catch {
        /* exited meanwhile */
      }
    };
    process.on(sig, h);
    return [sig, h] as const;
  });
  const relay = init.master !== undefined ? relayConsole(init.master, { stdin: o.interactive }) : undefined;
  try {
    const code = await init.trampoline.exited;
    if (relay) await Promise.race([relay.done, Bun.sleep(200)]);
    return code;
  } finally {
    relay?.restore();
    for (const [sig, h] of handlers) process.off(sig, h);
    if (pidfd !== undefined) sys.close(pidfd);
    if (init.master !== undefined && !relay) sys.close(init.master);
  }
}
