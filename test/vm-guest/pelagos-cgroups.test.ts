/**
 * The pelagos binary's cgroup behaviour on a pure cgroup-v2 kernel, inside the
 * test VM (state under /tmp, the VM's tmpfs). Skipped anywhere else.
 */
import { useRuntimeRoot } from "../helpers/pelagos.ts";
import { cgroupCases } from "../integration/cgroups-cases.ts";

const inVm = process.env.PELAGOS_IN_VM === "1" && process.getuid?.() === 0;
if (!inVm) console.log("skip guest pelagos cgroup tests: not inside the pelagos test VM (run test/vm/cgroup-v2.test.ts)");
const rt = useRuntimeRoot();
cgroupCases("pure cgroup v2 VM", inVm ? null : "not inside the test VM", rt, () => "v2");
