/**
 * `run`: one verb, two audiences. With --bundle it is runc's `run`; otherwise
 * docker's: `pelagos run [options] --rootfs DIR [CMD...]`.
 */
import { defineCommand } from "./command.ts";
import { bool, list, str, type Parsed } from "./argv.ts";
import type { Context } from "./context.ts";
import { UsageError } from "../errors.ts";
import { bundleArgs, oneId, preserveFds } from "./oci.ts";
import { securityArgs, securityFlags } from "./security-flags.ts";
import { resourceArgs, resourceFlags } from "./cgroup-flags.ts";

export default defineCommand({
  meta: { name: "run", description: "Run a command in a new container: pelagos run [OPTIONS] IMAGE|--rootfs DIR [CMD...], or an OCI bundle with --bundle DIR ID" },
  trailing: true,
  args: {
    ...bundleArgs,
    detach: { type: "boolean", alias: "d", description: "Run in the background (OCI bundles)" },
    keep: { type: "boolean", description: "Keep the OCI container's state after it exits" },
    rootfs: { type: "string", description: "Directory to use as the container's root filesystem (instead of an image)" },
    pull: { type: "string", description: "Pull the image: always, missing (default) or never" },
    platform: { type: "string", description: "Image platform os/arch[/variant] (default: this host's)" },
    entrypoint: { type: "string", description: "Replace the image's entrypoint" },
    name: { type: "string", description: "Container name" },
    hostname: { type: "string", alias: "h", description: "Container hostname (default: the name)" },
    env: { type: "string", alias: "e", multiple: true, description: "Set an environment variable (KEY=VALUE, or KEY to copy it)" },
    "env-file": { type: "string", multiple: true, description: "Read environment variables from a file" },
    workdir: { type: "string", alias: "w", description: "Working directory inside the container" },
    user: { type: "string", alias: "u", description: "USER[:GROUP], names or numbers" },
    volume: { type: "string", alias: "v", multiple: true, description: "Bind mount HOST:CONTAINER[:ro]" },
    tmpfs: { type: "string", multiple: true, description: "Mount a tmpfs at PATH[:options]" },
    "read-only": { type: "boolean", description: "Mount the root filesystem read-only" },
    rm: { type: "boolean", description: "Remove the container's record when it exits" },
    interactive: { type: "boolean", alias: "i", description: "Keep stdin open" },
    tty: { type: "boolean", alias: "t", description: "Give the container a terminal" },
    network: { type: "string", description: "none, loopback (default) or host" },
    label: { type: "string", alias: "l", multiple: true, description: "Set a label KEY=VALUE" },
    ...securityArgs,
    ...resourceArgs,
    "cgroup-parent": { type: "string", description: "Parent cgroup of the container's cgroup (default pelagos)" },
    init: { type: "boolean", description: "Run a tiny init as PID 1 that forwards signals and reaps zombies" },
    "stop-signal": { type: "string", description: "Signal `stop` sends first (default SIGTERM)" },
    "stop-timeout": { type: "string", description: "Seconds `stop` waits before SIGKILL (default 10)" },
    "log-opt": { type: "string", multiple: true, description: "Detached logs: max-size=N[k|m|g], max-file=N" },
  },
  async run(p: Parsed, ctx: Context) {
    if (str(p, "bundle") !== undefined) {
      ctx.failureExit = 1;
      const { createContainer } = await import("../runtime/oci/create.ts");
      return createContainer(ctx, {
        id: oneId(p, "run"), bundle: str(p, "bundle")!, pidFile: str(p, "pid-file"), consoleSocket: str(p, "console-socket"),
        preserveFds: preserveFds(p), mode: bool(p, "detach") ? "run-detached" : "run", keep: bool(p, "keep"),
      });
    }
    const rootfs = str(p, "rootfs");
    const positionals = [...p.positionals];
    const image = rootfs === undefined ? positionals.shift() : undefined;
    if (rootfs === undefined && image === undefined) throw new UsageError(`"pelagos run" needs an image, or --rootfs DIR (or --bundle DIR ID)`);
    const pull = str(p, "pull") ?? "missing";
    if (!["always", "missing", "never"].includes(pull)) throw new UsageError(`Invalid --pull "${pull}": expected always, missing or never`);
    const { runRootfs } = await import("../runtime/run-rootfs.ts");
    return runRootfs(ctx, {
      rootfs: rootfs ?? "", image, entrypoint: str(p, "entrypoint"), pull: pull as "missing", platform: str(p, "platform"),
      command: positionals, name: str(p, "name"), hostname: str(p, "hostname"),
      env: list(p, "env"), envFiles: list(p, "env-file"), workdir: str(p, "workdir"), user: str(p, "user"),
      volumes: list(p, "volume"), tmpfs: list(p, "tmpfs"), readOnly: bool(p, "read-only"), tty: bool(p, "tty"),
      network: str(p, "network"), labels: list(p, "label"), interactive: bool(p, "interactive"), rm: bool(p, "rm"),
      ...securityFlags(p),
      resources: resourceFlags(p), cgroupParent: str(p, "cgroup-parent"),
      init: bool(p, "init"), stopSignal: str(p, "stop-signal"), stopTimeout: str(p, "stop-timeout"),
      detach: bool(p, "detach") ? { logOpts: list(p, "log-opt") } : undefined,
    });
  },
});
