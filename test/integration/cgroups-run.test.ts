/**
 * Every container's cgroup on this host (hybrid here: limits through the v1
 * controllers, a cgroup2 leaf in /sys/fs/cgroup/unified). The same cases run
 * on pure cgroup v2 inside the test VM (test/vm-guest/pelagos-cgroups.test.ts).
 */
import { cgroupMode, requires } from "../helpers/requires.ts";
import { useRuntimeRoot } from "../helpers/pelagos.ts";
import { cgroupCases } from "./cgroups-cases.ts";

const mode = cgroupMode();
const skip = requires("root", "busybox", "pelagos") ?? (mode === "unified" || mode === "hybrid" ? null : `cgroup mode "${mode}" is not supported by these tests`);
const rt = useRuntimeRoot();
cgroupCases(`host, ${mode}`, skip, rt, () => (mode === "unified" ? "v2" : "hybrid"));
