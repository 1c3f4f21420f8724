/** `inspect`, `wait` and `attach` for `pelagos run` containers. */
import { writeSync } from "node:fs";
import * as sys from "../../ffi/sys.ts";
import { PelagosError, UsageError } from "../errors.ts";
import { containerDir } from "../state/paths.ts";
import { parseSince, printLogs } from "./logs.ts";
import { stderr } from "../log/logger.ts";
import { configFile, loadState, observe } from "./observe.ts";
import { readJson } from "../state/store.ts";
import * as v from "valibot";
import { validateName } from "./run-rootfs.ts";

export function inspectOne(root: string, name: string) {
  const s = loadState(root, name);
  const o = observe(root, s);
  const config = readJson(configFile(root, name), v.unknown()) as { process?: { env?: string[]; cwd?: string; user?: unknown } } | undefined;
  return {
    Name: s.name,
    Created: s.started_at,
    Path: s.command[0],
    Args: s.command.slice(1),
    State: {
      Status: o.status, Running: o.status === "running", Pid: o.initAlive ? s.pid : 0, ExitCode: o.exitCode ?? (o.status === "dead" ? -1 : 0),
      StartedAt: s.started_at, FinishedAt: o.finishedAt ?? "", Dead: o.status === "dead", OOMKilled: o.oomKilled === true,
    },
    Config: {
      Hostname: s.hostname, Cmd: s.command, Env: config?.process?.env ?? [], WorkingDir: config?.process?.cwd ?? "/",
      User: config?.process?.user, Labels: s.labels, StopSignal: s.stop_signal ?? "SIGTERM", StopTimeout: s.stop_timeout ?? 10,
      Init: s.init === true, OpenStdin: s.interactive === true,
    },
    Rootfs: s.rootfs,
    Detached: s.detached === true,
    LogPath: s.stdout_log ?? "",
    ErrorLogPath: s.stderr_log ?? "",
    SupervisorPid: o.ownerAlive ? s.watcher_pid : 0,
    AutoRemove: s.rm === true,
    RestartCount: s.restart_count ?? 0,
    OciConfig: config,
  };
}

/** docker wait: the exit code once the container stopped (-1 when its owner died without recording one). */
export async function waitExit(root: string, name: string): Promise<number> {
  let delay = 5;
  for (;;) {
    const s = loadState(root, name);
    const o = observe(root, s);
    if (o.status === "exited" && !(s.detached && o.ownerAlive)) return o.exitCode ?? -1;
    if (o.status === "dead") return -1;
    await Bun.sleep(delay);
    delay = Math.min(delay * 2, 100);
  }
}

/** Follows the output from now on; with a container started with -i, forwards our stdin to its fifo. */
export async function attachOne(root: string, rawName: string, o: { stdin: boolean; fromStart?: boolean }): Promise<number> {
  const name = validateName(rawName);
  const s = loadState(root, name);
  if (!s.detached) throw new UsageError(`Container "${name}" is not detached: nothing to attach to`);
  if (!o.fromStart && observe(root, s).status !== "running") throw new PelagosError("E_STATE", `Cannot attach to container "${name}": it is not running`);
  let fifo: number | undefined;
  let detached = false;
  // a container with a terminal gets our keystrokes as they are typed (^C included)
  const raw = o.stdin && s.interactive === true && process.stdin.isTTY === true && (readJson(configFile(root, name), v.unknown()) as { process?: { terminal?: boolean } } | undefined)?.process?.terminal === true;
  if (o.stdin && s.interactive) {
    if (raw) process.stdin.setRawMode(true);
    fifo = sys.open(`${containerDir(root, name)}/stdin`, sys.O_WRONLY | sys.O_CLOEXEC);
    const keys = new DetachKeys();
    process.stdin.on("data", (chunk: Buffer) => {
      // on a terminal, ^P ^Q leaves the container running (docker's detach keys)
      const { pass, detach } = raw ? keys.feed(chunk) : { pass: chunk, detach: false };
      try {
        if (pass.length) writeSync(fifo!, pass);
      } catch {
        /* the container is gone */
      }
      if (detach) detached = true;
    });
    process.stdin.resume();
  }
  try {
    // start -a: everything this run wrote (it may have finished already); attach: from now on
    const from = o.fromStart ? { since: parseSince(s.started_at) } : { tail: 0 };
    await printLogs(containerDir(root, name), { follow: true, ...from, timestamps: false }, () => {
      if (detached) return false;
      const cur = observe(root, loadState(root, name));
      return cur.initAlive || cur.ownerAlive;
    });
  } finally {
    if (fifo !== undefined) {
      process.stdin.pause();
      if (raw) process.stdin.setRawMode(false);
      sys.close(fifo);
    }
  }
  if (detached) {
    stderr(`\r\nDetached from ${name}\r\n`);
    return 0;
  }
  return waitExit(root, name);
}

/** ^P then ^Q, possibly split across reads; a lone ^P not followed by ^Q is passed on. */
export class DetachKeys {
  #held = false;
  feed(chunk: Uint8Array): { pass: Uint8Array; detach: boolean } {
    const out: number[] = [];
    for (const b of chunk) {
      if (this.#held) {
        this.#held = false;
        if (b === 0x11) return { pass: Uint8Array.from(out), detach: true };
        out.push(0x10);
      }
      if (b === 0x10) this.#held = true;
      else out.push(b);
    }
    return { pass: Uint8Array.from(out), detach: false };
  }
}
