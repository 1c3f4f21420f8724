/** The command table. Commands load lazily: only the chosen one is imported. */
import { defineCommand, lazy } from "./command.ts";

export const root = defineCommand({
  meta: { name: "pelagos", description: "A fast, daemonless Linux container runtime" },
  args: {
    root: { type: "string", description: "Runtime state directory (default /run/pelagos)" },
    log: { type: "string", description: "Write log lines to FILE" },
    "log-format": { type: "string", description: "Log format: text or json" },
    debug: { type: "boolean", description: "Log debug messages" },
    version: { type: "boolean", alias: "v", description: "Print the version" },
  },
  subCommands: {
    run: lazy(() => import("./run.ts")),
    rm: lazy(() => import("./rm.ts")),
    ps: async () => (await import("./lifecycle.ts")).ps,
    logs: async () => (await import("./lifecycle.ts")).logs,
    stop: async () => (await import("./lifecycle.ts")).stop,
    wait: async () => (await import("./lifecycle.ts")).wait,
    inspect: async () => (await import("./lifecycle.ts")).inspect,
    restart: async () => (await import("./lifecycle.ts")).restart,
    attach: async () => (await import("./lifecycle.ts")).attach,
    cleanup: async () => (await import("./lifecycle.ts")).cleanup,
    exec: lazy(() => import("./exec.ts")),
    create: async () => (await import("./oci.ts")).create,
    start: async () => (await import("./kill-start.ts")).start,
    state: async () => (await import("./oci.ts")).state,
    kill: lazy(() => import("./kill-start.ts")),
    delete: async () => (await import("./oci.ts")).del,
    list: async () => (await import("./oci.ts")).list,
    spec: async () => (await import("./oci.ts")).spec,
    version: lazy(() => import("./version.ts")),
    image: lazy(() => import("./image.ts")),
    system: lazy(() => import("./system.ts")),
  },
});
