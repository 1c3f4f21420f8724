/**
 * The default config.json, equal in content to what `runc spec` (runc 1.2, runtime-spec 1.2.0)
 * prints, and its `--rootless` variant. Key order follows runc's output so `pelagos spec`
 * prints a familiar file. Built on each call: callers mutate the result.
 */
import type { OciConfig, OciMount, OciNamespace } from "./config.ts";
import type { CapabilityName } from "./names.ts";

export const DEFAULT_OCI_VERSION = "1.2.0";

export interface DefaultSpecOptions {
  /** Mirror `runc spec --rootless`: user namespace with a one-id map, no network ns, no cgroup limits. */
  rootless?: boolean;
  /** Host uid/gid mapped to container root in the rootless variant (default: the effective ids). */
  hostUid?: number;
  hostGid?: number;
  /** runc adds a cgroup namespace only on cgroup v2 hosts; pelagos targets v2 (default true). */
  cgroupNamespace?: boolean;
}

/** runc 1.2 dropped the ambient set: ambient caps cannot be raised without inheritable ones. */
const DEFAULT_CAPS: readonly CapabilityName[] = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"];

function defaultMounts(): OciMount[] {
  return [
    { destination: "/proc", type: "proc", source: "proc" },
    {
      destination: "/dev",
      type: "tmpfs",
      source: "tmpfs",
      options: ["nosuid", "strictatime", "mode=755", "size=65536k"],
    },
    {
      destination: "/dev/pts",
      type: "devpts",
      source: "devpts",
      options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
    },
    {
      destination: "/dev/shm",
      type: "tmpfs",
      source: "shm",
      options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
    },
    { destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"] },
    { destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"] },
    {
      destination: "/sys/fs/cgroup",
      type: "cgroup",
      source: "cgroup",
      options: ["nosuid", "noexec", "nodev", "relatime", "ro"],
    },
  ];
}

export const DEFAULT_MASKED_PATHS: readonly string[] = [
  "/proc/acpi",
  "/proc/asound",
  "/proc/kcore",
  "/proc/keys",
  "/proc/latency_stats",
  "/proc/timer_list",
  "/proc/timer_stats",
  "/proc/sched_debug",
  "/sys/firmware",
  "/proc/scsi",
];

export const DEFAULT_READONLY_PATHS: readonly string[] = [
  "/proc/bus",
  "/proc/fs",
  "/proc/irq",
  "/proc/sys",
  "/proc/sysrq-trigger",
];

export function defaultSpec(opts: DefaultSpecOptions = {}): OciConfig {
  const namespaces: OciNamespace[] = [{ type: "pid" }, { type: "network" }, { type: "ipc" }, { type: "uts" }, { type: "mount" }];
  if (opts.cgroupNamespace !== false) namespaces.push({ type: "cgroup" });
  const spec: OciConfig = {
    ociVersion: DEFAULT_OCI_VERSION,
    process: {
      terminal: true,
      user: { uid: 0, gid: 0 },
      args: ["sh"],
      env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
      cwd: "/",
      capabilities: { bounding: [...DEFAULT_CAPS], effective: [...DEFAULT_CAPS], permitted: [...DEFAULT_CAPS] },
      rlimits: [{ type: "RLIMIT_NOFILE", hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: "rootfs", readonly: true },
    hostname: "runc",
    mounts: defaultMounts(),
    linux: {
      resources: { devices: [{ allow: false, access: "rwm" }] },
      namespaces,
      maskedPaths: [...DEFAULT_MASKED_PATHS],
      readonlyPaths: [...DEFAULT_READONLY_PATHS],
    },
  };
  return opts.rootless === true ? toRootless(spec, opts) : spec;
}

/** Same steps as runc's specconv.ToRootless, so the result matches `runc spec --rootless`. */
function toRootless(spec: OciConfig, opts: DefaultSpecOptions): OciConfig {
  const linux = spec.linux!;
  const hostUid = opts.hostUid ?? process.geteuid?.() ?? 0;
  const hostGid = opts.hostGid ?? process.getegid?.() ?? 0;
  const namespaces = (linux.namespaces ?? []).filter((ns) => ns.type !== "network" && ns.type !== "user");
  namespaces.push({ type: "user" });
  const mounts = (spec.mounts ?? []).map((m): OciMount => {
    // sysfs cannot be mounted without owning the network namespace: bind the host's instead.
    if (m.destination === "/sys") {
      return { destination: "/sys", type: "none", source: "/sys", options: ["rbind", "nosuid", "noexec", "nodev", "ro"] };
    }
    // uid=/gid= name ids that do not exist in a one-id user namespace.
    const options = m.options?.filter((o) => !o.startsWith("uid=") && !o.startsWith("gid="));
    const { options: _drop, ...rest } = m;
    return options === undefined || options.length === 0 ? rest : { ...rest, options };
  });
  return {
    ...spec,
    mounts,
    linux: {
      uidMappings: [{ containerID: 0, hostID: hostUid, size: 1 }],
      gidMappings: [{ containerID: 0, hostID: hostGid, size: 1 }],
      namespaces,
      maskedPaths: linux.maskedPaths,
      readonlyPaths: linux.readonlyPaths,
    },
  };
}
