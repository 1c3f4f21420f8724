/**
 * Chooses, per controller, the hierarchy that enforces a limit (v1 controller
 * mount, or the cgroup2 leaf), checks that every file exists before writing
 * anything, then writes. A limit that cannot be enforced is an error that
 * lists every such limit: never a silent no-op.
 */
import { PelagosError } from "../errors.ts";
import type { CgroupFs } from "./cgroupfs.ts";
import { planV1 } from "./plan-v1.ts";
import { type CgroupWrite, planV2 } from "./plan-v2.ts";
import type { LinuxResources } from "./resources.ts";

/** Where the container's cgroup directories are. */
export type CgroupDirs = {
  /** cgroup2 leaf (v2 and hybrid) */
  unified: string | undefined;
  /** controllers enabled for the cgroup2 leaf (its cgroup.controllers) */
  unifiedControllers: string[];
  /** v1 controller name → leaf dir in that controller's hierarchy */
  v1: Record<string, string>;
};

export type ResolvedWrite = CgroupWrite & { path: string };

const V2_NAME: Record<string, string> = { blkio: "io" };

/** Resolves the writes for `res` against the dirs; throws one error naming every limit that cannot be applied. */
export function resolveWrites(
  res: LinuxResources,
  dirs: CgroupDirs,
  fs: CgroupFs,
  opts: { oomGroup?: boolean },
): ResolvedWrite[] {
  const out: ResolvedWrite[] = [];
  const problems: string[] = [];
  const hasV1 = Object.keys(dirs.v1).length > 0;
  const v2Has = (c: string) => dirs.unified !== undefined && (c === "" || dirs.unifiedControllers.includes(c));
  const p2 = dirs.unified !== undefined ? planV2(res, opts) : { writes: [], unsupported: [] };
  if (!hasV1) {
    problems.push(...p2.unsupported);
    for (const w of p2.writes) {
      if (!v2Has(w.controller)) problems.push(`${w.what} ("${w.file}"): ${missingV2(w.controller, dirs)}`);
      else out.push({ ...w, path: `${dirs.unified}/${w.file}` });
    }
  } else {
    const p1 = planV1({ ...res, unified: undefined });
    problems.push(...p1.unsupported);
    if (dirs.unified === undefined) problems.push(...planV1({ unified: res.unified }).unsupported);
    const fromV2 = new Set<string>();
    for (const w of p1.writes) {
      const dir = dirs.v1[w.controller];
      if (dir !== undefined) out.push({ ...w, path: `${dir}/${w.file}` });
      else if (w.controller === "devices" && dirs.unified !== undefined) continue; // the manager attaches an eBPF program
      else if (w.controller !== "devices" && v2Has(V2_NAME[w.controller] ?? w.controller)) fromV2.add(V2_NAME[w.controller] ?? w.controller);
      else if (dirs.unified === undefined || w.controller === "devices") {
        problems.push(`${w.what} ("${w.file}"): the "${w.controller}" controller is not mounted on this host`);
      } else problems.push(`${w.what} ("${w.file}"): no cgroup v1 "${w.controller}" hierarchy, and ${missingV2(V2_NAME[w.controller] ?? w.controller, dirs)}`);
    }
    // Hybrid: limits whose controller lives only on cgroup2 (hugetlb on some hosts), and `unified` keys.
    for (const w of p2.writes) {
      const isUnifiedKey = Object.hasOwn(res.unified ?? {}, w.file);
      if (!fromV2.has(w.controller) && !isUnifiedKey) continue;
      if (!v2Has(w.controller)) problems.push(`${w.what} ("${w.file}"): ${missingV2(w.controller, dirs)}`);
      else out.push({ ...w, path: `${dirs.unified}/${w.file}` });
    }
  }
  const missingOptional = new Set<ResolvedWrite>();
  for (const w of out) {
    if (fs.exists(w.path)) continue;
    if (w.optional) {
      missingOptional.add(w);
      continue;
    }
    if (w.fallback && fs.exists(w.path.replace(/[^/]+$/, w.fallback.file))) {
      w.path = w.path.replace(/[^/]+$/, w.fallback.file);
      w.file = w.fallback.file;
      w.value = w.fallback.value;
      continue;
    }
    problems.push(`${w.what} ("${w.file}"): the kernel does not provide this file here`);
  }
  if (problems.length > 0) {
    throw new PelagosError("E_CGROUP_UNSUPPORTED", `Cannot enforce the requested resource limits on this host: ${problems.join("; ")}`, {
      details: { problems },
    });
  }
  return out.filter((w) => !missingOptional.has(w));
}

function missingV2(controller: string, dirs: CgroupDirs): string {
  if (dirs.unified === undefined) return "cgroup v2 is not mounted";
  return `the "${controller}" controller is not enabled for "${dirs.unified}" (pelagos does not enable controllers in cgroups it did not create)`;
}

/**
 * Writes in order. v1 checks memory.limit_in_bytes ≤ memory.memsw.limit_in_bytes
 * at every write, so when one order fails with EINVAL the pair is retried in
 * the other order (runc does the same by comparing with the current values).
 */
export function applyWrites(writes: ResolvedWrite[], fs: CgroupFs): void {
  for (let i = 0; i < writes.length; i++) {
    const w = writes[i]!;
    // a run of rules for one file (devices.deny/allow): one open, a write(2) per rule
    let n = 1;
    while (fs.writeEach && writes[i + n]?.path === w.path) n++;
    if (n > 1) {
      const run = writes.slice(i, i + n);
      try {
        fs.writeEach!(w.path, run.map((x) => x.value));
      } catch (e) {
        throw withWhat(e, run[(e as PelagosError).details?.index as number] ?? w);
      }
      i += n - 1;
      continue;
    }
    try {
      fs.write(w.path, w.value);
    } catch (e) {
      const next = writes[i + 1];
      const isPair = w.file === "memory.limit_in_bytes" && next?.file === "memory.memsw.limit_in_bytes";
      if (!isPair || (e as PelagosError).details?.errno !== "EINVAL") throw withWhat(e, w);
      fs.write(next.path, next.value);
      fs.write(w.path, w.value);
      i++;
    }
  }
}

function withWhat(e: unknown, w: CgroupWrite): unknown {
  if (!(e instanceof PelagosError)) return e;
  return new PelagosError(e.code, `Cannot set ${w.what}: ${e.message}`, { cause: e, details: e.details });
}
