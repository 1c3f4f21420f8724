/**
 * One error family for the whole runtime. Subsystems narrow `code`; callers
 * branch on `instanceof` and `code`, never on message text. Only src/main.ts
 * reports an error to the user, once.
 *
 * Messages follow the deno std guide: sentence case, no trailing period, the
 * action that failed first, quoted values, a colon before the detail.
 */
export class PelagosError extends Error {
  override name = "PelagosError";
  /** Exit status the CLI uses when this error ends a command (docker: 125 = the runtime failed). */
  exitCode = 125;
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown; exitCode?: number; details?: Record<string, unknown> },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    if (options?.exitCode !== undefined) this.exitCode = options.exitCode;
    this.details = options?.details;
  }
  details: Record<string, unknown> | undefined;
}

/** Bad input from the user: flags, config.json, names. Nothing was touched. */
export class UsageError extends PelagosError {
  override name = "UsageError";
  constructor(message: string, options?: { cause?: unknown }) {
    super("E_USAGE", message, options);
  }
}

/** An invalid or unsupported value in an OCI document; `path` is the JSON path. */
export class ConfigError extends PelagosError {
  override name = "ConfigError";
  constructor(
    readonly path: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super("E_CONFIG", path ? `Invalid config at ${path}: ${message}` : `Invalid config: ${message}`, options);
  }
}

/** State on disk: missing, corrupt, or a transition the container's status does not allow. */
export class StateError extends PelagosError {
  override name = "StateError";
}

/** The container process failed before execve: `step` says what it was doing. */
export class SpawnError extends PelagosError {
  override name = "SpawnError";
}

/** Runs `cleanup` steps in reverse order; collects their failures next to the original one. */
export class Undo {
  #steps: { what: string; run: () => void | Promise<void> }[] = [];
  push(what: string, run: () => void | Promise<void>): void {
    this.#steps.push({ what, run });
  }
  /** Forget the recorded steps (the operation succeeded and they now belong to the container). */
  commit(): void {
    this.#steps = [];
  }
  async rollback(cause?: unknown): Promise<never | void> {
    const failures: unknown[] = [];
    for (const step of this.#steps.reverse()) {
      try {
        await step.run();
      } catch (e) {
        failures.push(new PelagosError("E_CLEANUP", `Cannot undo ${step.what}: ${(e as Error).message}`, { cause: e }));
      }
    }
    this.#steps = [];
    if (failures.length > 0 && cause !== undefined) {
      const c = cause as PelagosError;
      if (c instanceof PelagosError) c.details = { ...c.details, cleanupErrors: failures.map((f) => (f as Error).message) };
    }
  }
}
