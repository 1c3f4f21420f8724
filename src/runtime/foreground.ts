/**
 * A foreground container: forward the signals a user sends to pelagos to the
 * container's init (through a pidfd, so a recycled pid is never hit), relay
 * its terminal, and return docker's exit status (the trampoline mirrors it:
 * the code, or 128+signal).
 *
 * Forwarding is installed before the container starts: a signal that arrives
 * while it is being set up is held and delivered once its init exists, and
 * never kills pelagos (which would leave nothing to clean up after it).
 */
import * as sys from "../../ffi/sys.ts";
import { relayConsole } from "./console.ts";
import type { Init } from "./start-init.ts";

const FORWARDED = { SIGINT: 2, SIGTERM: 15, SIGHUP: 1, SIGQUIT: 3, SIGUSR1: 10, SIGUSR2: 12 } as const;

export class SignalForwarder {
  #pidfd: number | undefined;
  #held: number[] = [];
  #handlers: [string, () => void][] = [];

  constructor() {
    for (const [name, num] of Object.entries(FORWARDED)) {
      const h = () => this.#send(num);
      process.on(name as NodeJS.Signals, h);
      this.#handlers.push([name, h]);
    }
  }

  #send(sig: number): void {
    if (this.#pidfd === undefined) {
      this.#held.push(sig);
      return;
    }
    try {
      sys.pidfdSendSignal(this.#pidfd, sig);
    } catch {
      /* exited meanwhile */
    }
  }

  attach(pid: number): void {
    try {
      this.#pidfd = sys.pidfdOpen(pid);
    } catch {
      return; // already gone: its status comes from the trampoline
    }
    for (const sig of this.#held.splice(0)) this.#send(sig);
  }

  dispose(): void {
    for (const [name, h] of this.#handlers) process.off(name as NodeJS.Signals, h);
    if (this.#pidfd !== undefined) sys.close(this.#pidfd);
    this.#pidfd = undefined;
  }
}

export async function waitForeground(init: Init, o: { interactive: boolean; signals: SignalForwarder }): Promise<number> {
  o.signals.attach(init.pid);
  const relay = init.master !== undefined ? await relayConsole(init.master, { stdin: o.interactive }) : undefined;
  try {
    const code = await init.trampoline.exited;
    if (relay) await Promise.race([relay.done, Bun.sleep(200)]);
    return code;
  } finally {
    relay?.restore();
    o.signals.dispose();
    if (init.master !== undefined && !relay) sys.close(init.master);
  }
}
