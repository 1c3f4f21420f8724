/**
 * Rules → per-architecture syscall plans, kept in flat arrays because this runs on every
 * container start: most syscalls have one unconditional action, stored by number in a
 * Float64Array (NaN = no rule); the few with argument conditions go to a Map.
 */
import { actionRank, describeAction } from "./actions.ts";
import { SUB_ARCHES, type SubArch, type SubArchInfo } from "./arch/index.ts";
import type { Condition } from "./conditions.ts";
import type { EffectiveRule } from "./select.ts";

/** Table numbers below this are stored densely; above it (ARM's 0xf0000 calls) sparsely. */
export const DENSE = 1024;

export interface ConditionalRule {
  conds: Condition[];
  action: number;
  /** Position in the profile, the tie-break between rules of equal rank. */
  seq: number;
}

export interface ArchPlan {
  info: SubArchInfo;
  /** Unconditional action by table number (< DENSE); NaN = none. */
  uncond: Float64Array;
  /** Unconditional actions for table numbers >= DENSE. */
  uncondSparse: Map<number, number>;
  /** Conditional rules by table number. */
  cond: Map<number, ConditionalRule[]>;
  /** Highest table number any rule names (runc's ENOSYS stub boundary); -1 = none. */
  last: number;
  maxDense: number;
}

export function planArches(
  rules: readonly EffectiveRule[],
  arches: readonly SubArch[],
  skipped: Set<string>,
  log: (m: string) => void,
): ArchPlan[] {
  return arches.map((name) => {
    const plan: ArchPlan = {
      info: SUB_ARCHES[name],
      uncond: new Float64Array(DENSE).fill(Number.NaN),
      uncondSparse: new Map(),
      cond: new Map(),
      last: -1,
      maxDense: -1,
    };
    let seq = 0;
    for (const rule of rules) {
      for (const alt of rule.alternatives) addRule(plan, rule, alt, ++seq, skipped, log);
    }
    return plan;
  });
}

function addRule(
  plan: ArchPlan,
  rule: EffectiveRule,
  conds: Condition[],
  seq: number,
  skipped: Set<string>,
  log: (m: string) => void,
): void {
  const table = plan.info.table();
  for (const name of rule.names) {
    // The tables have a null prototype, so one lookup is enough and "constructor" is no syscall.
    const nr = table[name];
    if (nr === undefined) {
      const key = `${name} (${plan.info.name})`;
      if (!skipped.has(key)) log(`seccomp: unknown syscall "${name}" on ${plan.info.name} in ${rule.path}, skipped`);
      skipped.add(key);
      continue;
    }
    if (nr > plan.last) plan.last = nr;
    if (nr < DENSE && nr > plan.maxDense) plan.maxDense = nr;
    if (conds.length > 0) {
      const list = plan.cond.get(nr);
      if (list) list.push({ conds, action: rule.action, seq });
      else plan.cond.set(nr, [{ conds, action: rule.action, seq }]);
      continue;
    }
    const prev = nr < DENSE ? plan.uncond[nr]! : (plan.uncondSparse.get(nr) ?? Number.NaN);
    let keep = rule.action;
    if (!Number.isNaN(prev) && prev !== rule.action) {
      // Two unconditional rules disagree: the more restrictive one wins, as between filters.
      keep = actionRank(rule.action) < actionRank(prev) ? rule.action : prev;
      log(
        `seccomp: "${name}" on ${plan.info.name} has conflicting actions ${describeAction(prev)} and ` +
          `${describeAction(rule.action)} (${rule.path}), using ${describeAction(keep)}`,
      );
    }
    if (nr < DENSE) plan.uncond[nr] = keep;
    else plan.uncondSparse.set(nr, keep);
  }
}
