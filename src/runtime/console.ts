/**
 * The terminal of a container run in the foreground (`run -t`, OCI `run` with
 * process.terminal): the container's init creates the pty in its own devpts
 * and sends the master over a socketpair; we relay it to our stdio, in raw
 * mode when our stdin is a terminal, and pass on window-size changes.
 */
import { writeSync } from "node:fs";
import * as K from "../../ffi/consts.ts";
import * as sys from "../../ffi/sys.ts";

export type ConsoleRelay = { done: Promise<void>; restore: () => void };

export function copyWindowSize(master: number): void {
  const ws = new Uint8Array(8);
  try {
    sys.ioctl(1, K.TIOCGWINSZ, ws);
  } catch {
    try {
      sys.ioctl(0, K.TIOCGWINSZ, ws);
    } catch {
      return;
    }
  }
  try {
    sys.ioctl(master, K.TIOCSWINSZ, ws);
  } catch {
    /* the container side may be gone */
  }
}

/** node:tty (and its streams) load only here: a container without a terminal never pays for them. */
export async function relayConsole(master: number, o: { stdin: boolean }): Promise<ConsoleRelay> {
  const tty = await import("node:tty");
  const stdinIsTty = process.stdin.isTTY === true;
  if (o.stdin && stdinIsTty) process.stdin.setRawMode(true);
  const onWinch = () => copyWindowSize(master);
  process.on("SIGWINCH", onWinch);
  const out = new tty.ReadStream(master);
  const done = new Promise<void>((resolve) => {
    out.on("data", (chunk: Buffer) => process.stdout.write(chunk));
    // EIO on the master: every slave fd is closed (the container exited)
    out.on("error", () => resolve());
    out.on("end", () => resolve());
    out.on("close", () => resolve());
  });
  if (o.stdin) {
    process.stdin.on("data", (chunk: Buffer) => {
      try {
        writeSync(master, chunk);
      } catch {
        /* container gone */
      }
    });
    process.stdin.resume();
  }
  const restore = () => {
    process.off("SIGWINCH", onWinch);
    if (o.stdin) {
      process.stdin.pause();
      if (stdinIsTty) process.stdin.setRawMode(false);
    }
    out.destroy();
  };
  return { done, restore };
}
