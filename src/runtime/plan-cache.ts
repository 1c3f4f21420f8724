/**
 * A cache of launch plans, keyed by everything a plan is made from.
 *
 * Planning is pure, but cold: the first (and, in a one-shot CLI, only) run of
 * the planners costs 6-10 ms of interpreter time, a fifth of a container start
 * (ADR 0007). Orchestrators and scripts start the same bundle again and again,
 * so the plan for a request is stored under `<root>/.plans/<sha256 of the
 * request>` and reused when the request is byte-for-byte the same: same build
 * of pelagos, same parsed config, rootfs, mode, fds, host facts, cgroup layout
 * and seccomp filter, and what the planners read from the host: whether each
 * bind mount's source is a directory, a file or missing (plan/mounts.ts stats
 * them). Nothing per-run is in a plan (the runtime's pid is
 * written into the header when it is sent), so a hit is the exact plan the
 * planners would make. Run from source (no build id) or with
 * PELAGOS_PLAN_CACHE=0 it is off. At most MAX_PLANS files are kept.
 *
 * The same goes for the validation of a bundle's config.json: its valibot
 * schemas cost 3-7 ms to load and 1-2 ms to run, for a pure function of the
 * text. `config-<sha256 of build id and text>` holds the validated config.
 *
 *   file: u32 meta length | meta JSON {mode, steps, readies, cloneFlags} | plan bytes
 */
import { readdirSync, readFileSync, statSync, unlinkSync, mkdirSync } from "node:fs";
import * as v from "valibot";
import type { Launch, LaunchRequest } from "../plan/launch.ts";
import type { OciConfig } from "../oci/runtime/config.ts";
import { PLAN_MAGIC, PLAN_VERSION } from "../spawn/plan-encode.ts";
import { writeFileAtomic } from "../state/store.ts";
import { sha256Hex } from "../state/random.ts";
import { mark } from "../log/timing.ts";

declare const PELAGOS_BUILD_ID: string;
/** A digest of the sources the binary was built from (build.ts); undefined when run from source. */
const BUILD_ID: string | undefined = typeof PELAGOS_BUILD_ID === "string" ? PELAGOS_BUILD_ID : undefined;
const MAX_PLANS = 64;

const MetaSchema = v.object({
  mode: v.picklist(["run", "create"]),
  steps: v.array(v.string()),
  readies: v.array(v.number()),
  cloneFlags: v.number(),
});

const enabled = (dir: string | undefined): dir is string => dir !== undefined && BUILD_ID !== undefined && process.env.PELAGOS_PLAN_CACHE !== "0";

/**
 * The validated config for config.json's `text`: from the cache in `dir` when there, else
 * `validate(text)` (which throws on an invalid config: nothing is stored then).
 */
export async function validatedConfig(dir: string | undefined, text: string, validate: () => Promise<OciConfig>): Promise<OciConfig> {
  const file = enabled(dir) ? `${dir}/config-${sha256Hex(`${BUILD_ID}\n${text}`)}` : undefined;
  if (file) {
    try {
      const hit = JSON.parse(readFileSync(file, "utf8")) as unknown;
      if (hit !== null && typeof hit === "object") return hit as OciConfig;
    } catch {
      // not cached yet (or damaged: validated again and rewritten)
    }
  }
  const config = await validate();
  if (file) {
    let json: string | undefined;
    try {
      json = JSON.stringify(config);
    } catch {
      // a value JSON cannot express: validated every time
    }
    if (json !== undefined) store(dir!, file, `${json}\n`);
  }
  return config;
}

/** What each bind mount's source is now ("d", "f" or the stat error), as plan/mounts.ts decides from it. */
function bindSources(req: LaunchRequest): string[] {
  const out: string[] = [];
  for (const m of req.config.mounts ?? []) {
    if (m.type !== "bind" && !(m.options ?? []).some((o) => o === "bind" || o === "rbind")) continue;
    try {
      out.push(statSync(m.source ?? "").isDirectory() ? "d" : "f");
    } catch (e) {
      out.push((e as NodeJS.ErrnoException).code ?? "error");
    }
  }
  return out;
}

/** The key of a request: undefined if it cannot be cached. */
export function planKey(req: LaunchRequest, buildId: string): string | undefined {
  try {
    const seccomp = req.seccomp && { flags: req.seccomp.flags, filter: sha256Hex(req.seccomp.filter) };
    return sha256Hex(JSON.stringify([buildId, PLAN_VERSION, { ...req, seccomp }, bindSources(req)]));
  } catch {
    return undefined; // a value JSON cannot express (a bigint): plan it every time
  }
}

export function encodeEntry(l: Launch): Uint8Array {
  const meta = Buffer.from(JSON.stringify({ mode: l.mode, steps: l.steps, readies: l.readies, cloneFlags: l.cloneFlags }));
  const out = new Uint8Array(4 + meta.length + l.plan.length);
  new DataView(out.buffer).setUint32(0, meta.length, true);
  out.set(meta, 4);
  out.set(l.plan, 4 + meta.length);
  return out;
}

/** A stored entry, or undefined if it is damaged or from another plan format. */
export function decodeEntry(buf: Uint8Array): Launch | undefined {
  if (buf.length < 4) return undefined;
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const n = dv.getUint32(0, true);
  if (4 + n + 40 > buf.length) return undefined;
  let meta: v.InferOutput<typeof MetaSchema>;
  try {
    const r = v.safeParse(MetaSchema, JSON.parse(Buffer.from(buf.subarray(4, 4 + n)).toString("utf8")));
    if (!r.success) return undefined;
    meta = r.output;
  } catch {
    return undefined;
  }
  // a copy: the runtime pid is written into the plan before it is sent
  const plan = new Uint8Array(buf.length - 4 - n);
  plan.set(buf.subarray(4 + n));
  const p = new DataView(plan.buffer);
  if (p.getUint32(0, true) !== PLAN_MAGIC || p.getUint32(4, true) !== PLAN_VERSION) return undefined;
  return { ...meta, plan };
}

/** The plan for `req`: from the cache in `dir` when there, else planned (and stored). */
export async function launchPlan(dir: string | undefined, req: LaunchRequest): Promise<Launch> {
  const key = enabled(dir) ? planKey(req, BUILD_ID!) : undefined;
  const file = key ? `${dir}/${key}` : undefined;
  if (file) {
    const hit = readEntry(file);
    if (hit) {
      mark("init: plan from cache");
      return hit;
    }
  }
  const { planLaunch } = await import("../plan/launch.ts");
  const launch = planLaunch(req);
  if (file) store(dir!, file, encodeEntry(launch));
  return launch;
}

function readEntry(file: string): Launch | undefined {
  try {
    return decodeEntry(readFileSync(file));
  } catch {
    return undefined; // ENOENT: not cached yet
  }
}

/** Best effort: a cache that cannot be written only costs the next start its planning. */
function store(dir: string, file: string, data: string | Uint8Array): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileAtomic(file, data, 0o600);
    evict(dir);
  } catch {
    // read-only or full runtime root
  }
}

/** Keeps the newest MAX_PLANS entries. */
export function evict(dir: string, max = MAX_PLANS): void {
  const names = readdirSync(dir).filter((n) => !n.startsWith("."));
  if (names.length <= max) return;
  const aged = names.flatMap((n) => {
    try {
      return [{ n, t: statSync(`${dir}/${n}`).mtimeMs }];
    } catch {
      return [];
    }
  });
  aged.sort((a, b) => a.t - b.t);
  for (const { n } of aged.slice(0, aged.length - max)) {
    try {
      unlinkSync(`${dir}/${n}`);
    } catch {
      // another pelagos evicted it
    }
  }
}
