/** One test per rejection rule: the exact JSON path and message a user sees. */
import { expect, test } from "bun:test";
import { ConfigError } from "../../errors.ts";
import { parseConfig } from "./config.ts";
import { fullConfig } from "./testdata/full-config.ts";

type Raw = Record<string, any>;
const U32_MAX = 4294967295;

const cases: [string, (c: Raw) => void, string][] = [
  // top level
  ["ociVersion missing", (c) => delete c.ociVersion, "ociVersion: is required"],
  ["ociVersion not 1.x", (c) => (c.ociVersion = "2.0.0"), 'ociVersion: must be a 1.x runtime-spec version like "1.2.0", got "2.0.0"'],
  ["root missing", (c) => delete c.root, "root: is required"],
  ["root.path missing", (c) => delete c.root.path, "root.path: is required"],
  ["root.readonly not boolean", (c) => (c.root.readonly = "yes"), 'root.readonly: must be a boolean, got "yes"'],
  ["an array where an object belongs", (c) => (c.process = []), "process: must be an object, got an array"],
  ["an array where an all-optional object belongs", (c) => (c.process.capabilities = []), "process.capabilities: must be an object, got an array"],
  ["an array where a string map belongs", (c) => (c.annotations = ["a=b"]), "annotations: must be an object, got an array"],
  ["null where an object belongs", (c) => (c.linux.sysctl = null), "linux.sysctl: must be an object, got null"],
  ["hostname without uts namespace", (c) => c.linux.namespaces.splice(4, 1), 'hostname: requires a "uts" entry in linux.namespaces'],
  ["domainname without uts namespace", (c) => (delete c.hostname, c.linux.namespaces.splice(4, 1)), 'domainname: requires a "uts" entry in linux.namespaces'],
  ["annotation value not a string", (c) => (c.annotations["a.b"] = 3), 'annotations["a.b"]: must be a string, got 3'],
  ["annotation key empty", (c) => (c.annotations[""] = "x"), 'annotations[""]: must not be an empty key'],
  // process
  ["process.args empty", (c) => (c.process.args = []), "process.args: must contain at least one entry (the program to run)"],
  ["process.args missing", (c) => delete c.process.args, "process.args: is required"],
  ["process.args entry not a string", (c) => (c.process.args = ["sh", 1]), "process.args[1]: must be a string, got 1"],
  ["process.env without =", (c) => (c.process.env[1] = "FOO"), 'process.env[1]: must be "KEY=value" without NUL bytes, got "FOO"'],
  ["process.env empty key", (c) => (c.process.env[0] = "=x"), 'process.env[0]: must be "KEY=value" without NUL bytes, got "=x"'],
  ["process.env NUL byte", (c) => (c.process.env[0] = "A=b\0c"), 'process.env[0]: must be "KEY=value" without NUL bytes, got "A=b\\u0000c"'],
  ["process.cwd relative", (c) => (c.process.cwd = "home"), 'process.cwd: must be an absolute path, got "home"'],
  ["process.cwd missing", (c) => delete c.process.cwd, "process.cwd: is required"],
  ["process.terminal not boolean", (c) => (c.process.terminal = 1), "process.terminal: must be a boolean, got 1"],
  ["process.consoleSize negative", (c) => (c.process.consoleSize.height = -1), "process.consoleSize.height: must be an integer from 0 to 4294967295, got -1"],
  ["process.user missing", (c) => delete c.process.user, "process.user: is required"],
  ["process.user.uid u32::MAX (CVE-2024-40635 class)", (c) => (c.process.user.uid = U32_MAX), "process.user.uid: must be an ID from 0 to 4294967294, got 4294967295"],
  ["process.user.uid negative", (c) => (c.process.user.uid = -1), "process.user.uid: must be an ID from 0 to 4294967294, got -1"],
  ["process.user.uid fractional", (c) => (c.process.user.uid = 1.5), "process.user.uid: must be an ID from 0 to 4294967294, got 1.5"],
  ["process.user.gid u32::MAX", (c) => (c.process.user.gid = U32_MAX), "process.user.gid: must be an ID from 0 to 4294967294, got 4294967295"],
  ["process.user.additionalGids u32::MAX", (c) => (c.process.user.additionalGids[1] = U32_MAX), "process.user.additionalGids[1]: must be an ID from 0 to 4294967294, got 4294967295"],
  ["process.user.umask too large", (c) => (c.process.user.umask = 0o10000), "process.user.umask: must be a mode from 0 to 0o7777, got 4096"],
  ["unknown capability", (c) => (c.process.capabilities.ambient = ["CAP_FOO"]), 'process.capabilities.ambient[0]: must be a known capability, got "CAP_FOO"'],
  ["capability without CAP_ prefix", (c) => (c.process.capabilities.bounding[1] = "KILL"), 'process.capabilities.bounding[1]: must be a known capability, got "KILL"'],
  ["unknown rlimit", (c) => (c.process.rlimits[0].type = "RLIMIT_FOO"), 'process.rlimits[0].type: must be a known RLIMIT_* name, got "RLIMIT_FOO"'],
  ["rlimit soft above hard", (c) => (c.process.rlimits[0].soft = 8192), "process.rlimits[0].soft: must not exceed hard (4096), got 8192"],
  ["rlimit duplicated", (c) => (c.process.rlimits[1].type = "RLIMIT_NOFILE"), 'process.rlimits[1].type: duplicates "RLIMIT_NOFILE" set at process.rlimits[0]'],
  ["rlimit negative", (c) => (c.process.rlimits[0].hard = -1), "process.rlimits[0].hard: must be a non-negative integer, got -1"],
  ["oomScoreAdj out of range", (c) => (c.process.oomScoreAdj = 1001), "process.oomScoreAdj: must be an integer from -1000 to 1000, got 1001"],
  ["noNewPrivileges not boolean", (c) => (c.process.noNewPrivileges = "true"), 'process.noNewPrivileges: must be a boolean, got "true"'],
  ["apparmorProfile not a string", (c) => (c.process.apparmorProfile = 1), "process.apparmorProfile: must be a string, got 1"],
  ["ioPriority.class unknown", (c) => (c.process.ioPriority.class = "RT"), 'process.ioPriority.class: must be one of "IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE", "IOPRIO_CLASS_IDLE", got "RT"'],
  ["ioPriority.priority out of range", (c) => (c.process.ioPriority.priority = 8), "process.ioPriority.priority: must be an integer from 0 to 7, got 8"],
  ["scheduler.policy unknown", (c) => (c.process.scheduler.policy = "SCHED_FOO"), 'process.scheduler.policy: must be one of "SCHED_OTHER", "SCHED_FIFO", "SCHED_RR", "SCHED_BATCH", "SCHED_ISO", "SCHED_IDLE", "SCHED_DEADLINE", got "SCHED_FOO"'],
  ["scheduler.flags unknown", (c) => (c.process.scheduler.flags = ["X"]), 'process.scheduler.flags[0]: must be one of "SCHED_FLAG_RESET_ON_FORK", "SCHED_FLAG_RECLAIM", "SCHED_FLAG_DL_OVERRUN", "SCHED_FLAG_KEEP_POLICY", "SCHED_FLAG_KEEP_PARAMS", "SCHED_FLAG_UTIL_CLAMP_MIN", "SCHED_FLAG_UTIL_CLAMP_MAX", got "X"'],
  // mounts
  ["mount destination relative", (c) => (c.mounts[2].destination = "proc"), 'mounts[2].destination: must be an absolute path, got "proc"'],
  ["mount destination missing", (c) => delete c.mounts[0].destination, "mounts[0].destination: is required"],
  ["mount options not an array", (c) => (c.mounts[1].options = "ro"), 'mounts[1].options: must be an array, got "ro"'],
  ["mount option not a string", (c) => (c.mounts[1].options = ["ro", 5]), "mounts[1].options[1]: must be a string, got 5"],
  ["mount uidMappings size 0", (c) => (c.mounts[1].uidMappings = [{ containerID: 0, hostID: 1, size: 0 }]), "mounts[1].uidMappings[0].size: must be an integer from 1 to 4294967295, got 0"],
  // hooks
  ["hook path relative", (c) => (c.hooks.prestart[0].path = "hook"), 'hooks.prestart[0].path: must be an absolute path, got "hook"'],
  ["hook timeout zero", (c) => (c.hooks.poststop[0].timeout = 0), "hooks.poststop[0].timeout: must be a positive number of seconds, got 0"],
  ["hook env malformed", (c) => (c.hooks.createRuntime[0].env = ["X"]), 'hooks.createRuntime[0].env[0]: must be "KEY=value" without NUL bytes, got "X"'],
  ["hook args not strings", (c) => (c.hooks.startContainer[0].args = [1]), "hooks.startContainer[0].args[0]: must be a string, got 1"],
  // linux: namespaces and id maps
  ["namespace type unknown", (c) => (c.linux.namespaces[1].type = "net"), 'linux.namespaces[1].type: must be one of "pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time", got "net"'],
  ["namespace path relative", (c) => (c.linux.namespaces[1].path = "netns/box"), 'linux.namespaces[1].path: must be an absolute path, got "netns/box"'],
  ["namespace duplicated", (c) => c.linux.namespaces.push({ type: "pid" }), 'linux.namespaces[8].type: duplicates "pid" set at linux.namespaces[0]'],
  ["uidMappings hostID u32::MAX", (c) => (c.linux.uidMappings[0].hostID = U32_MAX), "linux.uidMappings[0].hostID: must be an ID from 0 to 4294967294, got 4294967295"],
  ["uidMappings containerID u32::MAX", (c) => (c.linux.uidMappings[0].containerID = U32_MAX), "linux.uidMappings[0].containerID: must be an ID from 0 to 4294967294, got 4294967295"],
  ["uidMappings size 0", (c) => (c.linux.uidMappings[0].size = 0), "linux.uidMappings[0].size: must be an integer from 1 to 4294967295, got 0"],
  ["uidMappings range reaching u32::MAX", (c) => (c.linux.uidMappings[0] = { containerID: 0, hostID: 4294967290, size: 6 }), "linux.uidMappings[0].size: must keep the range below 4294967295, got hostID 4294967290 + size 6"],
  ["gidMappings overlapping", (c) => (c.linux.gidMappings[1].containerID = 999), "linux.gidMappings[1].containerID: must not overlap linux.gidMappings[0], got 999 (size 1)"],
  ["mount gidMappings overlapping", (c) => c.mounts[1].gidMappings.push({ containerID: 70000, hostID: 100001, size: 1 }), "mounts[1].gidMappings[1].hostID: must not overlap mounts[1].gidMappings[0], got 100001 (size 1)"],
  ["uidMappings without user namespace", (c) => c.linux.namespaces.splice(5, 1), 'linux.uidMappings: requires a "user" entry in linux.namespaces'],
  ["gidMappings without user namespace", (c) => (delete c.linux.uidMappings, c.linux.namespaces.splice(5, 1)), 'linux.gidMappings: requires a "user" entry in linux.namespaces'],
  ["timeOffsets unknown clock", (c) => (c.linux.timeOffsets.realtime = { secs: 1 }), 'linux.timeOffsets.realtime: must be one of "monotonic", "boottime", got "realtime"'],
  ["timeOffsets nanosecs too large", (c) => (c.linux.timeOffsets.monotonic.nanosecs = 1e9), "linux.timeOffsets.monotonic.nanosecs: must be an integer from 0 to 999999999, got 1000000000"],
  // linux: devices, paths, misc
  ["device type unknown", (c) => (c.linux.devices[0].type = "x"), 'linux.devices[0].type: must be one of "c", "b", "u", "p", got "x"'],
  ["device path relative", (c) => (c.linux.devices[0].path = "dev/fuse"), 'linux.devices[0].path: must be an absolute path, got "dev/fuse"'],
  ["device major missing", (c) => delete c.linux.devices[0].major, 'linux.devices[0].major: is required for device type "c"'],
  ["device fileMode negative", (c) => (c.linux.devices[0].fileMode = -1), "linux.devices[0].fileMode: must be an integer from 0 to 4294967295, got -1"],
  ["device uid u32::MAX", (c) => (c.linux.devices[0].uid = U32_MAX), "linux.devices[0].uid: must be an ID from 0 to 4294967294, got 4294967295"],
  ["sysctl value not a string", (c) => (c.linux.sysctl["net.ipv4.ip_forward"] = 1), 'linux.sysctl["net.ipv4.ip_forward"]: must be a string, got 1'],
  ["maskedPaths relative", (c) => (c.linux.maskedPaths = ["proc/kcore"]), 'linux.maskedPaths[0]: must be an absolute path, got "proc/kcore"'],
  ["readonlyPaths relative", (c) => c.linux.readonlyPaths.push("sys"), 'linux.readonlyPaths[1]: must be an absolute path, got "sys"'],
  ["rootfsPropagation unknown", (c) => (c.linux.rootfsPropagation = "recursive"), 'linux.rootfsPropagation: must be one of "shared", "slave", "private", "unbindable", "rshared", "rslave", "rprivate", "runbindable", got "recursive"'],
  ["cgroupsPath not a string", (c) => (c.linux.cgroupsPath = ["a"]), "linux.cgroupsPath: must be a string, got an array"],
  ["personality domain unknown", (c) => (c.linux.personality.domain = "BSD"), 'linux.personality.domain: must be one of "LINUX", "LINUX32", got "BSD"'],
  // linux.resources
  ["device rule access invalid", (c) => (c.linux.resources.devices[1].access = "rwx"), 'linux.resources.devices[1].access: must be a combination of "r", "w" and "m", got "rwx"'],
  ["device rule allow missing", (c) => delete c.linux.resources.devices[0].allow, "linux.resources.devices[0].allow: is required"],
  ["device rule type unknown", (c) => (c.linux.resources.devices[1].type = "p"), 'linux.resources.devices[1].type: must be one of "a", "c", "b", got "p"'],
  ["memory.limit fractional", (c) => (c.linux.resources.memory.limit = 1.5), "linux.resources.memory.limit: must be a 64-bit integer, got 1.5"],
  ["memory.swappiness above 100", (c) => (c.linux.resources.memory.swappiness = 101), "linux.resources.memory.swappiness: must be an integer from 0 to 100, got 101"],
  ["cpu.shares negative", (c) => (c.linux.resources.cpu.shares = -1), "linux.resources.cpu.shares: must be a non-negative integer, got -1"],
  ["cpu.cpus not a string", (c) => (c.linux.resources.cpu.cpus = 3), "linux.resources.cpu.cpus: must be a string, got 3"],
  ["pids.limit missing", (c) => (c.linux.resources.pids = {}), "linux.resources.pids.limit: is required"],
  ["blockIO.weight out of range", (c) => (c.linux.resources.blockIO.weight = 5), "linux.resources.blockIO.weight: must be from 10 to 1000, got 5"],
  ["blockIO.weightDevice major missing", (c) => delete c.linux.resources.blockIO.weightDevice[0].major, "linux.resources.blockIO.weightDevice[0].major: is required"],
  ["blockIO throttle rate negative", (c) => (c.linux.resources.blockIO.throttleWriteIOPSDevice[0].rate = -1), "linux.resources.blockIO.throttleWriteIOPSDevice[0].rate: must be a non-negative integer, got -1"],
  ["hugepage pageSize malformed", (c) => (c.linux.resources.hugepageLimits[0].pageSize = "2M"), 'linux.resources.hugepageLimits[0].pageSize: must be a page size like "2MB", got "2M"'],
  ["network classID negative", (c) => (c.linux.resources.network.classID = -1), "linux.resources.network.classID: must be an integer from 0 to 4294967295, got -1"],
  ["network priority name missing", (c) => delete c.linux.resources.network.priorities[0].name, "linux.resources.network.priorities[0].name: is required"],
  ["rdma hcaHandles negative", (c) => (c.linux.resources.rdma.mlx5_1.hcaHandles = -1), "linux.resources.rdma.mlx5_1.hcaHandles: must be an integer from 0 to 4294967295, got -1"],
  ["unified value not a string", (c) => (c.linux.resources.unified["memory.high"] = 5), 'linux.resources.unified["memory.high"]: must be a string, got 5'],
  // linux.seccomp
  ["seccomp defaultAction unknown", (c) => (c.linux.seccomp.defaultAction = "ALLOW"), 'linux.seccomp.defaultAction: must be a known SCMP_ACT_* action, got "ALLOW"'],
  ["seccomp architecture unknown", (c) => (c.linux.seccomp.architectures[1] = "SCMP_ARCH_Z80"), 'linux.seccomp.architectures[1]: must be a known SCMP_ARCH_* architecture, got "SCMP_ARCH_Z80"'],
  ["seccomp flag unknown", (c) => (c.linux.seccomp.flags = ["TSYNC"]), 'linux.seccomp.flags[0]: must be a known SECCOMP_FILTER_FLAG_* flag, got "TSYNC"'],
  ["seccomp listenerPath relative", (c) => (c.linux.seccomp.listenerPath = "agent.sock"), 'linux.seccomp.listenerPath: must be an absolute path, got "agent.sock"'],
  ["seccomp syscall names empty", (c) => (c.linux.seccomp.syscalls[0].names = []), "linux.seccomp.syscalls[0].names: must name at least one syscall"],
  ["seccomp syscall name empty", (c) => (c.linux.seccomp.syscalls[0].names = ["read", ""]), "linux.seccomp.syscalls[0].names[1]: must be a non-empty syscall name"],
  ["seccomp syscall action missing", (c) => delete c.linux.seccomp.syscalls[1].action, "linux.seccomp.syscalls[1].action: is required"],
  ["seccomp arg index 6", (c) => (c.linux.seccomp.syscalls[1].args[0].index = 6), "linux.seccomp.syscalls[1].args[0].index: must be an integer from 0 to 5, got 6"],
  ["seccomp arg op unknown", (c) => (c.linux.seccomp.syscalls[2].args[0].op = "SCMP_CMP_AND"), 'linux.seccomp.syscalls[2].args[0].op: must be one of "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ", got "SCMP_CMP_AND"'],
  ["seccomp arg value negative", (c) => (c.linux.seccomp.syscalls[1].args[0].value = -1), "linux.seccomp.syscalls[1].args[0].value: must be a non-negative integer, got -1"],
  ["seccomp errnoRet with ALLOW", (c) => (c.linux.seccomp.syscalls[0].errnoRet = 1), 'linux.seccomp.syscalls[0].errnoRet: is only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE, got action "SCMP_ACT_ALLOW"'],
  ["seccomp defaultErrnoRet with KILL", (c) => (c.linux.seccomp.defaultAction = "SCMP_ACT_KILL"), 'linux.seccomp.defaultErrnoRet: is only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE, got defaultAction "SCMP_ACT_KILL"'],
  ["seccomp NOTIFY without listenerPath", (c) => delete c.linux.seccomp.listenerPath, "linux.seccomp.listenerPath: is required when an action is SCMP_ACT_NOTIFY"],
];

test.each(cases)("parseConfig() rejects: %s", (_name, mutate, expected) => {
  const raw = fullConfig();
  mutate(raw);
  let error: unknown;
  try {
    parseConfig(raw);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(ConfigError);
  const e = error as ConfigError;
  expect(e.message).toBe(`Invalid config at ${expected}`);
  expect(e.path).toBe(expected.slice(0, expected.indexOf(": ")));
  expect(e.code).toBe("E_CONFIG");
});
