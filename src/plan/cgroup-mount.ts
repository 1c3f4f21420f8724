/**
 * /sys/fs/cgroup inside a container on a v1/hybrid host with a cgroup
 * namespace: a read-only tmpfs holding a fresh mount of every controller hierarchy
 * (and cgroup2 at `unified` on hybrid hosts). Mounted from inside the cgroup
 * namespace, each shows the container's own cgroup as its root, as a fresh
 * cgroup2 mount does on pure v2. (v1 cgroupfs cannot be mounted in a user
 * namespace: those containers keep the read-only bind of the host's tree. Named
 * hierarchies such as name=systemd are left out: pelagos makes no cgroup there,
 * so the container would see the host's tree.)
 */
import * as K from "../../ffi/consts.ts";
import type { Emitter, Slot } from "./emit.ts";

/** A cgroup hierarchy mounted under the host's /sys/fs/cgroup: `dir` relative to it. */
export type CgroupMountFact = { dir: string; fsType: "cgroup" | "cgroup2"; options: [string, string | null][] };

const CONTROLLERS = new Set(["cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "net_cls", "blkio", "perf_event", "net_prio", "hugetlb", "pids", "rdma", "misc"]);

/** Hierarchies under /sys/fs/cgroup from mountinfo: controllers (and name=) as fsconfig parameters. */
export function cgroupMountFacts(mountinfo: string): CgroupMountFact[] {
  const out: CgroupMountFact[] = [];
  for (const line of mountinfo.split("\n")) {
    const [pre, post] = line.split(" - ");
    if (!pre || !post) continue;
    const mountPoint = pre.split(" ")[4] ?? "";
    const [fsType, , superOpts = ""] = post.split(" ");
    if ((fsType !== "cgroup" && fsType !== "cgroup2") || !mountPoint.startsWith("/sys/fs/cgroup/")) continue;
    const dir = mountPoint.slice("/sys/fs/cgroup/".length);
    if (dir === "" || dir.includes("/")) continue;
    const options: [string, string | null][] = [];
    if (fsType === "cgroup") {
      for (const o of superOpts.split(",")) {
        if (CONTROLLERS.has(o)) options.push([o, null]);
      }
      if (options.length === 0) continue;
    }
    out.push({ dir, fsType, options });
  }
  return out;
}

/** `readOnly`: the mount's "ro" option (docker's default); --privileged asks for a writable view. */
export function planCgroupV1Mount(e: Emitter, root: Slot, rel: string, facts: CgroupMountFact[], readOnly = true): void {
  const b = e.b;
  b.step(`mount the container's cgroup hierarchies at /${rel}`);
  const target = e.openat2(root, rel, K.O_PATH | K.O_DIRECTORY, K.RESOLVE_IN_ROOT);
  const tmp = e.newFs("tmpfs", "tmpfs", [["mode", "755"]], K.MOUNT_ATTR_NOSUID | K.MOUNT_ATTR_NODEV | K.MOUNT_ATTR_NOEXEC);
  e.moveMount(tmp, target);
  e.close(target);
  for (const f of facts) {
    b.step(`mount ${f.fsType} ${f.options.map(([k, v]) => (v === null ? k : `${k}=${v}`)).join(",")} at /${rel}/${f.dir}`);
    e.mkdirAll(root, `${rel}/${f.dir}`);
    const sub = e.openat2(root, `${rel}/${f.dir}`, K.O_PATH | K.O_DIRECTORY, K.RESOLVE_IN_ROOT);
    const m = e.newFs(f.fsType, f.fsType, f.options, (readOnly ? K.MOUNT_ATTR_RDONLY : 0) | K.MOUNT_ATTR_NOSUID | K.MOUNT_ATTR_NODEV | K.MOUNT_ATTR_NOEXEC);
    e.moveMount(m, sub);
    e.close(m);
    e.close(sub);
  }
  if (readOnly) {
    b.step(`make /${rel} read-only`);
    e.setAttr(tmp, false, K.MOUNT_ATTR_RDONLY);
  }
  e.close(tmp);
}
