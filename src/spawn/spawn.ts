/**
 * The parent half of the spawn: start the trampoline with a plan, answer its
 * sync points, and turn a {step, errno} report into one clear error.
 */
import { mark } from "../log/timing.ts";
import { setRuntimePid } from "./plan-encode.ts";
import type { Subprocess } from "bun";
import { errnoName, errnoDescription } from "../../ffi/errno.ts";
import { sendWithFd } from "../../ffi/idmap.ts";
import * as sys from "../../ffi/sys.ts";
import { trampolineFd } from "../../ffi/trampoline/index.ts";
import { SpawnError } from "../errors.ts";
import type { Launch } from "../plan/launch.ts";
import { decode, encodeGo, Msg, MSG_SIZE, type Message } from "./protocol.ts";

export type StdioFd = number | "inherit" | "ignore";

export type SpawnRequest = {
  launch: Launch;
  stdio: [StdioFd, StdioFd, StdioFd];
  /** fds placed at 5, 6, … in the trampoline (console socket, preserved fds) */
  extraFds?: number[];
  /** called at each READY; may return a payload sent after GO, or an fd sent with GO (READY_FD; closed here once sent) */
  onReady?: (kind: number, pid: number) => Promise<ReadyAnswer> | ReadyAnswer;
  /** how long a sync point may take before we give up */
  timeoutMs?: number;
};

export type ReadyAnswer = Uint8Array | { fd: number } | void;

export type Spawned = {
  /** host pid of the container's init */
  pid: number;
  trampoline: Subprocess;
  /** the socket, still open when the plan stopped at "created" */
  sync: number | undefined;
};

/** Thrown away in finally: the fds the trampoline owns. */
export async function spawnContainer(req: SpawnRequest): Promise<Spawned> {
  const [parentEnd, childEnd] = sys.socketpair();
  const planFd = sys.memfdCreate("pelagos-plan", sys.MFD_CLOEXEC);
  let proc: Subprocess | undefined;
  let pid = 0;
  try {
    setRuntimePid(req.launch.plan, process.pid);
    sys.writeAll(planFd, req.launch.plan);
    const tfd = trampolineFd();
    proc = Bun.spawn([`/proc/self/fd/${tfd}`], {
      stdio: [req.stdio[0], req.stdio[1], req.stdio[2], childEnd, planFd, ...(req.extraFds ?? [])] as never,
      env: {},
      argv0: "pelagos-init",
    });
    sys.close(childEnd);
    sys.close(planFd);
    mark("spawn: trampoline started");
    const pending: Message[] = [];
    const next = (): Message | undefined => pending.shift() ?? readMessage(parentEnd, req.timeoutMs ?? 30_000);
    const readies = [...req.launch.readies];
    for (;;) {
      const m = next();
      if (!m) break; // EOF: execve happened (or the trampoline died; see below)
      if (m.type === Msg.PID) {
        pid = m.value;
        mark("spawn: cloned");
        continue;
      }
      if (m.type === Msg.ERROR) throw spawnError(req.launch, m);
      if (m.type === Msg.READY) {
        if (pid === 0) {
          // the trampoline reports the pid; the child may be faster: read on until it comes
          const rest: Message[] = [];
          let p: Message | undefined;
          while ((p = readMessage(parentEnd, req.timeoutMs ?? 30_000)) && p.type !== Msg.PID) rest.push(p);
          if (!p) throw new SpawnError("E_SPAWN", "The container process ended before reporting its pid");
          pid = p.value;
          pending.push(...rest);
        }
        const expected = readies.shift();
        if (expected !== m.value) throw new SpawnError("E_PROTOCOL", `Unexpected sync point ${m.value} (expected ${expected})`);
        const answer = (await req.onReady?.(m.value, pid)) ?? undefined;
        if (answer && "fd" in answer) {
          try {
            sendWithFd(parentEnd, encodeGo(0), answer.fd);
          } finally {
            sys.close(answer.fd);
          }
        } else {
          sys.writeAll(parentEnd, encodeGo(answer?.length ?? 0));
          if (answer?.length) sys.writeAll(parentEnd, answer);
        }
        if (readies.length === 0 && req.launch.readies.at(-1) === m.value && isCreateStop(req)) {
          return { pid, trampoline: proc, sync: parentEnd };
        }
        continue;
      }
      throw new SpawnError("E_PROTOCOL", `Unknown message ${m.type} from the container process`);
    }
    if (pid === 0) {
      const code = await proc.exited;
      throw new SpawnError("E_SPAWN", `The container process could not be started (trampoline status ${code})`);
    }
    sys.close(parentEnd);
    return { pid, trampoline: proc, sync: undefined };
  } catch (e) {
    sys.close(parentEnd);
    if (proc && proc.exitCode === null) {
      if (pid > 0) sys.tryKill(pid, 9);
      proc.kill(9);
      await proc.exited;
    }
    throw e;
  }
}

function isCreateStop(req: SpawnRequest): boolean {
  return req.launch.mode === "create";
}

function readMessage(fd: number, timeoutMs: number): Message | undefined {
  const buf = new Uint8Array(MSG_SIZE);
  let got = 0;
  while (got < MSG_SIZE) {
    if (!sys.pollIn(fd, timeoutMs)) throw new SpawnError("E_TIMEOUT", `The container process did not answer within ${timeoutMs} ms`);
    const n = sys.read(fd, buf.subarray(got));
    if (n === 0) {
      if (got === 0) return undefined;
      throw new SpawnError("E_PROTOCOL", "Truncated message from the container process");
    }
    got += n;
  }
  return decode(buf);
}

function spawnError(launch: Launch, m: Message): SpawnError {
  const step = launch.steps[m.step] ?? `step ${m.step}`;
  if (m.extra === 1) {
    const what = /^execute "(.*)"$/.exec(step)?.[1] ?? step;
    if (m.value === 2)
      return new SpawnError("E_EXEC_NOT_FOUND", `Cannot execute "${what}": executable file not found in $PATH`, { exitCode: 127 });
    return new SpawnError("E_EXEC", `Cannot execute "${what}": ${errnoName(m.value)} (${errnoDescription(m.value)})`, { exitCode: 126 });
  }
  if (m.extra & 2) return new SpawnError("E_HOOK", `Cannot ${step}: the hook exited with status ${m.extra >> 8}`);
  return new SpawnError("E_SPAWN", `Cannot ${step}: ${errnoName(m.value)} (${errnoDescription(m.value)})`);
}
