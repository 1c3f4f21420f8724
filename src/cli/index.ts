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
    create: async () => (await import("./oci.ts")).create,
    start: async () => (await import("./oci.ts")).start,
    state: async () => (await import("./oci.ts")).state,
    kill: async () => (await import("./oci.ts")).kill,
    delete: async () => (await import("./oci.ts")).del,
    list: async () => (await import("./oci.ts")).list,
    spec: async () => (await import("./oci.ts")).spec,
    stats: lazy(() => import("./stats.ts")),
    update: lazy(() => import("./update.ts")),
    pause: async () => (await import("./pause.ts")).pause,
    unpause: async () => (await import("./pause.ts")).unpause,
    version: lazy(() => import("./version.ts")),
    image: lazy(() => import("./image.ts")),
    system: lazy(() => import("./system.ts")),
  },
});
