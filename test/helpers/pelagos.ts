/**
 * Driving a runtime binary as a black box: dist/pelagos (or $PELAGOS_BIN), or
 * any runc-compatible runtime (runc, crun) for comparison tests.
 *
 *   const rt = useRuntimeRoot();                  // per test file: temp --root, cleaned in afterAll
 *   const r = await rt.run(["run", "--bundle", b.dir, uniqueId()]);
 *   const r2 = await pelagos(["--version"]);      // no --root
 */
import { afterAll } from "bun:test";
import { closeSync, existsSync, openSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ioDir, makeTempDir, PELAGOS_BIN, removeTempDir, RUN_ENV, runToken } from "./tmp.ts";

export { PELAGOS_BIN };

export type RunOptions = {
  /** Adds `--root DIR` before the arguments. */
  root?: string;
  /** Extra environment (on top of this process's environment and the run marker). */
  env?: Record<string, string>;
  /** Replaces the inherited environment instead of extending it. */
  cleanEnv?: boolean;
  /** Text or bytes for stdin; stdin is /dev/null when absent. */
  stdin?: string | Uint8Array;
  /**
   * Run under a pseudo-terminal (`script` from bsdutils), for `run -t` style tests:
   * stdin/stdout/stderr of the runtime are then the pty; output has \r\n and
   * stderr is merged into stdout.
   */
  tty?: boolean;
  /** Kill (SIGKILL) after this many ms; default 30 000. */
  timeoutMs?: number;
  cwd?: string;
};

export type RunResult = {
  /** Exit status, or null when killed by a signal. */
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** The full command, for assertion messages. */
  command: string[];
  /** Files holding the output (they keep growing if a detached container writes to them). */
  stdoutPath: string;
  stderrPath: string;
};

let outCounter = 0;

/**
 * Runs `bin args...` and collects its output. Never throws for a non-zero exit.
 *
 * stdout/stderr go to files, not pipes: a detached container (create, run -d)
 * inherits them and may keep them open long after the runtime exits, which would
 * make reading a pipe to EOF hang. The files stay readable (stdoutPath) until the
 * end of the run, e.g. to see what a container printed after `start`.
 */
export async function runCli(bin: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const command = [bin, ...(opts.root ? ["--root", opts.root] : []), ...args];
  const argv = opts.tty ? ["script", "-qefc", command.map(shellQuote).join(" "), "/dev/null"] : command;
  const env: Record<string, string> = opts.cleanEnv ? {} : { ...(process.env as Record<string, string>) };
  Object.assign(env, { [RUN_ENV]: runToken() }, opts.env);
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const n = ++outCounter;
  const stdoutPath = join(ioDir(), `${n}.out`);
  const stderrPath = join(ioDir(), `${n}.err`);
  const outFd = openSync(stdoutPath, "w");
  const errFd = openSync(stderrPath, "w");
  let proc: ReturnType<typeof Bun.spawn>;
  try {
    proc = Bun.spawn(argv, {
      env,
      cwd: opts.cwd,
      // Under a pty, EOF on script's stdin is turned into bytes typed at the terminal: keep it open instead (an idle keyboard).
      stdin: opts.stdin === undefined ? (opts.tty ? "pipe" : "ignore") : typeof opts.stdin === "string" ? new TextEncoder().encode(opts.stdin) : opts.stdin,
      stdout: outFd,
      stderr: errFd,
    });
  } finally {
    closeSync(outFd);
    closeSync(errFd);
  }
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    proc.kill("SIGKILL");
  }, timeoutMs);
  await proc.exited;
  clearTimeout(timer);
  if (proc.stdin && typeof proc.stdin !== "number") void proc.stdin.end();
  const signal = proc.signalCode == null ? null : String(proc.signalCode);
  const stdout = readFileSync(stdoutPath, "utf8");
  const stderr = readFileSync(stderrPath, "utf8");
  return { code: signal ? null : proc.exitCode, signal, stdout, stderr, timedOut, command, stdoutPath, stderrPath };
}

function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", "'\\''")}'`;
}

/** Runs dist/pelagos (or $PELAGOS_BIN). */
export function pelagos(args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return runCli(PELAGOS_BIN, args, opts);
}

let idCounter = 0;
/** A container id unique in this run; contains "pelagos" so leaked cgroups named after it are found. */
export function uniqueId(prefix = "pelagos-t"): string {
  return `${prefix}-${runToken()}-${++idCounter}`;
}

/** A RunResult as text, for assertion messages. */
export function explain(r: RunResult): string {
  return `$ ${r.command.join(" ")}\n[exit ${r.code ?? r.signal}${r.timedOut ? ", timed out" : ""}]\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}`;
}

/** Ids from `list` output: a JSON array of { id }, or a table whose optional header starts with "ID". */
export function parseList(stdout: string): string[] {
  const text = stdout.trim();
  if (text.startsWith("[")) {
    const rows = JSON.parse(text) as { id?: unknown }[];
    return rows.map((r) => r.id).filter((id): id is string => typeof id === "string");
  }
  return text
    .split("\n")
    .map((l) => l.trim().split(/\s+/)[0] ?? "")
    .filter((id, i) => id && !(i === 0 && id === "ID"));
}

export class RuntimeRoot {
  #root: string | undefined;

  constructor(readonly bin: string) {}

  /**
   * The temp --root, created on first use: with `bun test -t`, a file's afterAll
   * does not run when none of its tests ran, so nothing may be made at load time.
   */
  get root(): string {
    this.#root ??= makeTempDir("root");
    return this.#root;
  }

  run(args: string[], opts: Omit<RunOptions, "root"> = {}): Promise<RunResult> {
    return runCli(this.bin, args, { ...opts, root: this.root });
  }

  /** Ids of OCI containers the runtime lists (`list`). */
  async ids(): Promise<string[]> {
    if (this.#root === undefined) return [];
    const r = await this.run(["list"], { timeoutMs: 10_000 });
    return r.code === 0 ? parseList(r.stdout) : [];
  }

  /**
   * Names of containers with a state directory (root/<name>, or pelagos'
   * root/containers/<name>): also the docker-like `run` containers, which the
   * OCI `list` does not show.
   */
  stateNames(): string[] {
    if (this.#root === undefined) return [];
    const dirs = (d: string) =>
      existsSync(d) ? readdirSync(d, { withFileTypes: true }).filter((e) => e.isDirectory() && !e.name.startsWith(".")).map((e) => e.name) : [];
    const top = dirs(this.root);
    return top.includes("containers") ? dirs(join(this.root, "containers")) : top;
  }

  /**
   * Force-deletes every container left (`delete --force` for listed ones, `rm
   * --force` for other state directories), then removes the root directory.
   * Throws when mounts were left below the root (a runtime leak); leftover
   * containers alone are only reported on stderr (the test decides about those).
   */
  async cleanup(): Promise<void> {
    if (this.#root === undefined) return;
    const ids = await this.ids();
    const others = this.stateNames().filter((n) => !ids.includes(n));
    if (ids.length + others.length > 0) {
      console.warn(`cleanup: removing containers left in "${this.root}": ${[...ids, ...others].join(", ")}`);
    }
    for (const id of ids) await this.run(["delete", "--force", id], { timeoutMs: 15_000 });
    // Not listed: docker-like `run` containers (pelagos rm); for other runtimes, stale state.
    for (const name of others) await this.run(["rm", "--force", name], { timeoutMs: 15_000 });
    const mounts = removeTempDir(this.root);
    if (mounts.length > 0) throw new Error(`Runtime left mounts under its root "${this.root}": ${mounts.join(", ")}`);
  }
}

/** A fresh temp runtime root for `bin` (default dist/pelagos); call cleanup() yourself. */
export function createRuntimeRoot(bin = PELAGOS_BIN): RuntimeRoot {
  return new RuntimeRoot(bin);
}

/** createRuntimeRoot() + afterAll(cleanup) in the calling test file. */
export function useRuntimeRoot(bin = PELAGOS_BIN): RuntimeRoot {
  const rt = createRuntimeRoot(bin);
  afterAll(() => rt.cleanup());
  return rt;
}
