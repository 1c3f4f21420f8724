/**
 * Docker's profile preprocessing (moby profiles/seccomp: setupSeccomp): pick the architectures
 * through `archMap`, drop rules whose `includes`/`excludes` gates do not hold for this container,
 * and turn each remaining rule into OR-ed alternatives of AND-ed argument conditions.
 */
import { actionValue } from "./actions.ts";
import { HOST_ARCHES, type HostArch, type SubArch } from "./arch/index.ts";
import type { Condition } from "./conditions.ts";
import { ruleNames, type SeccompProfile, type SeccompSyscallRule } from "./profile-schema.ts";

export interface GateContext {
  goArch: string;
  caps: ReadonlySet<string>;
  kernel: readonly [number, number] | undefined;
}

export interface EffectiveRule {
  path: string;
  names: string[];
  action: number;
  /** OR of alternatives; each alternative is an AND of conditions; [] = unconditional. */
  alternatives: Condition[][];
}

export function normalizeCap(cap: string): string {
  const up = cap.trim().toUpperCase();
  return up.startsWith("CAP_") ? up : `CAP_${up}`;
}

function parseKernel(s: string): [number, number] {
  const [maj = "0", min = "0"] = s.split(".");
  return [Number(maj), Number(min)];
}

/** An unknown host kernel counts as older than every `minKernel` (the gate stays closed). */
function kernelAtLeast(kernel: GateContext["kernel"], min: string): boolean {
  if (!kernel) return false;
  const [maj, mi] = parseKernel(min);
  return kernel[0] > maj || (kernel[0] === maj && kernel[1] >= mi);
}

export function ruleApplies(rule: SeccompSyscallRule, ctx: GateContext): boolean {
  const ex = rule.excludes;
  if (ex) {
    if (ex.arches?.includes(ctx.goArch)) return false;
    if (ex.caps?.some((c) => ctx.caps.has(normalizeCap(c)))) return false;
    if (ex.minKernel && kernelAtLeast(ctx.kernel, ex.minKernel)) return false;
  }
  const inc = rule.includes;
  if (inc) {
    if (inc.arches && inc.arches.length > 0 && !inc.arches.includes(ctx.goArch)) return false;
    if (inc.caps?.some((c) => !ctx.caps.has(normalizeCap(c)))) return false;
    if (inc.minKernel && !kernelAtLeast(ctx.kernel, inc.minKernel)) return false;
  }
  return true;
}

/**
 * runc's rule: when two conditions test the same argument, each condition becomes its own rule
 * (OR); otherwise all conditions must hold (AND).
 */
function alternatives(rule: SeccompSyscallRule): Condition[][] {
  const conds: Condition[] = (rule.args ?? []).map((a) => ({
    index: a.index,
    op: a.op,
    value: a.value,
    valueTwo: a.valueTwo ?? 0n,
  }));
  if (conds.length === 0) return [[]];
  const seen = new Set(conds.map((c) => c.index));
  return seen.size < conds.length ? conds.map((c) => [c]) : [conds];
}

export function selectRules(profile: SeccompProfile, ctx: GateContext, jsonPath: string): EffectiveRule[] {
  const out: EffectiveRule[] = [];
  (profile.syscalls ?? []).forEach((rule, i) => {
    if (!ruleApplies(rule, ctx)) return;
    out.push({
      path: `${jsonPath}.syscalls[${i}]`,
      names: ruleNames(rule),
      action: actionValue(rule.action, rule.errnoRet ?? undefined),
      alternatives: alternatives(rule),
    });
  });
  return out;
}

/**
 * The sub-architectures the filter handles. Docker's `archMap` entry for the native arch wins;
 * otherwise `architectures`. The native arch is always present (libseccomp adds it in
 * seccomp_init). Arches this kernel can never report are ignored.
 */
export function selectArches(profile: SeccompProfile, host: HostArch, log: (m: string) => void): SubArch[] {
  const info = HOST_ARCHES[host];
  let wanted: string[] = profile.architectures ?? [];
  if (profile.archMap && profile.archMap.length > 0) {
    const entry = profile.archMap.find((a) => a.architecture === info.native);
    wanted = entry ? [entry.architecture, ...(entry.subArchitectures ?? [])] : [];
  }
  const out: SubArch[] = [info.native];
  for (const a of wanted) {
    if (a === "SCMP_ARCH_NATIVE") continue;
    if ((info.possible as readonly string[]).includes(a)) {
      if (!out.includes(a as SubArch)) out.push(a as SubArch);
    } else {
      log(`seccomp: architecture "${a}" cannot occur on ${host}, ignored`);
    }
  }
  return out;
}
