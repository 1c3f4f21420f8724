/**
 * The security side of a container's OCI config, from one validated
 * SecuritySpec: capabilities, no_new_privs, seccomp, masked and read-only
 * paths, rlimits, oom_score_adj, sysctls, devices, user namespace. `pelagos
 * run` applies it to the config it builds; a future `exec` takes the process
 * half (securityProcess) so both go through the same plan builders
 * (planCredentials, the seccomp step). Pure.
 *
 * Defaults (DEFAULT_SECURITY) are docker's: the 14 default capabilities,
 * Docker's seccomp profile, masked and read-only /proc and /sys paths,
 * read-only sysfs and cgroupfs, no_new_privs off.
 */
import type { OciConfig, OciDevice, OciProcess } from "../oci/runtime/config.ts";
import { dockerDefaultProfileJson } from "../seccomp/index.ts";
import { DEFAULT_CAPS } from "../security/capabilities.ts";
import type { IdMap } from "../security/userns.ts";

export type SecuritySpec = {
  /** the final capability set (bounding, effective, permitted) */
  capabilities: readonly string[];
  privileged: boolean;
  /** "default": Docker's profile, evaluated against the final capabilities when compiled */
  seccomp: "default" | "unconfined" | { profile: unknown };
  noNewPrivileges: boolean;
  /** "unconfined": no masked or read-only paths (docker's systempaths=unconfined, --privileged) */
  systemPaths: "default" | "unconfined";
  rlimits: readonly { type: string; soft: number; hard: number }[];
  oomScoreAdj?: number;
  sysctl: Readonly<Record<string, string>>;
  /** device nodes created in /dev besides the default ones (the host's, for --privileged) */
  devices: readonly OciDevice[];
  /** a user namespace with these maps; the root filesystem is then shown through an idmapped mount */
  userns?: {
    uidMap: readonly IdMap[];
    gidMap: readonly IdMap[];
    /** `--userns auto`: ranges of this size are picked again, under a host-wide lock, when the maps are written */
    auto?: number;
  };
};

export const DEFAULT_SECURITY: SecuritySpec = {
  capabilities: DEFAULT_CAPS, privileged: false, seccomp: "default", noNewPrivileges: false,
  systemPaths: "default", rlimits: [], sysctl: {}, devices: [],
};

export const DOCKER_MASKED = [
  "/proc/asound", "/proc/acpi", "/proc/interrupts", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
  "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware",
  "/sys/devices/virtual/powercap",
];
export const DOCKER_READONLY = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"];

/** 2^64: the largest u64 the OCI schema takes, encoded as RLIM_INFINITY by the plan */
const RLIM_INFINITY = 2 ** 64;

/** The process fields: what `run` and a later `exec` share. */
export function securityProcess(s: SecuritySpec): Pick<OciProcess, "capabilities" | "noNewPrivileges" | "rlimits" | "oomScoreAdj"> {
  const caps = [...s.capabilities] as NonNullable<NonNullable<OciProcess["capabilities"]>["bounding"]>;
  return {
    // a non-root user keeps only the bounding set across execve (no file capabilities, no ambient): docker's behaviour
    capabilities: { bounding: caps, effective: caps, permitted: caps, inheritable: [], ambient: [] },
    noNewPrivileges: s.noNewPrivileges,
    rlimits: s.rlimits.map((r) => ({
      type: r.type as NonNullable<OciProcess["rlimits"]>[number]["type"],
      soft: r.soft < 0 ? RLIM_INFINITY : r.soft,
      hard: r.hard < 0 ? RLIM_INFINITY : r.hard,
    })),
    ...(s.oomScoreAdj === undefined ? {} : { oomScoreAdj: s.oomScoreAdj }),
  };
}

/** Applies a SecuritySpec to a docker-style config (mounts as DOCKER_MOUNTS makes them). */
export function applySecurity(config: OciConfig, s: SecuritySpec): OciConfig {
  const linux = (config.linux ??= {});
  config.process = { ...config.process!, ...securityProcess(s) };
  if (s.seccomp === "default") linux.seccomp = dockerDefaultProfileJson() as never;
  else if (s.seccomp !== "unconfined") linux.seccomp = s.seccomp.profile as never;
  const confined = s.systemPaths === "default" && !s.privileged;
  linux.maskedPaths = confined ? DOCKER_MASKED : [];
  linux.readonlyPaths = confined ? DOCKER_READONLY : [];
  if (s.privileged) {
    // docker: sysfs and the cgroup filesystem writable
    config.mounts = config.mounts?.map((m) =>
      m.destination === "/sys" || m.destination === "/sys/fs/cgroup"
        ? { ...m, options: [...(m.options ?? []).filter((o) => o !== "ro"), "rw"] }
        : m,
    );
  }
  if (Object.keys(s.sysctl).length) linux.sysctl = { ...s.sysctl };
  if (s.devices.length) linux.devices = [...s.devices];
  if (s.userns) {
    // sysfs can only be mounted by the owner of the network namespace: with the
    // host's network, show the host's /sys (runc does the same for rootless)
    if (!linux.namespaces?.some((n) => n.type === "network"))
      config.mounts = config.mounts?.map((m) =>
        m.type === "sysfs" ? { destination: m.destination, type: "bind", source: "/sys", options: ["rbind", ...(m.options ?? [])] } : m,
      );
    linux.namespaces = [...(linux.namespaces ?? []), { type: "user" }];
    linux.uidMappings = [...s.userns.uidMap];
    linux.gidMappings = [...s.userns.gidMap];
  }
  return config;
}
