/** Global flags, parsed once before the verb (runc/crun order: `pelagos --root X create ...`). */
import type { Logger } from "../log/logger.ts";

/** The runtime root when --root is not given. */
export const DEFAULT_ROOT = "/run/pelagos";

export type Context = {
  root: string;
  rootGiven: boolean;
  logFile?: string;
  logFormat: "text" | "json";
  debug: boolean;
  log: Logger;
  /** exit status for a runtime failure: 125 (docker) for `run`, 1 (runc) for the OCI verbs */
  failureExit: number;
};
