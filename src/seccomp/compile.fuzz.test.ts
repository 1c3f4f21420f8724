/**
 * Random profiles against a direct model of the documented semantics (README "Precedence"):
 * the compiled filter, run by the interpreter, must agree with the model for every syscall
 * number in the tables and random arguments. Seeded, so failures reproduce.
 */
import { describe, expect, test } from "bun:test";
import { actionRank, actionValue, describeAction, ENOSYS, SECCOMP_RET_ERRNO, type ActionName } from "./actions.ts";
import { AUDIT_ARCH_I386, AUDIT_ARCH_X86_64, SUB_ARCHES, X32_SYSCALL_BIT, type SubArch } from "./arch/index.ts";
import { runFilter } from "./bpf-interp.ts";
import { decodeProgram } from "./bpf.ts";
import { compileSeccomp } from "./compile.ts";
import { OPERATORS, parseSeccompProfile, type Operator } from "./profile-schema.ts";

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x9e3779b9) >>> 0;
    s = (s ^ (s >>> 13)) >>> 0;
    return s / 0x100000000;
  };
}

const VALUES = [0n, 1n, 7n, 0xffn, 0x7fffffffn, 0x80000000n, 0xffffffffn, 0x100000000n, 0x1_00000007n, 0xffffffff_ffffffffn, 0x80000000_00000000n];
const ACTIONS: ActionName[] = ["SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_TRAP", "SCMP_ACT_LOG", "SCMP_ACT_TRACE", "SCMP_ACT_KILL"];

interface Cond {
  index: number;
  op: Operator;
  value: bigint;
  valueTwo: bigint;
}
interface Rule {
  names: string[];
  action: ActionName;
  errnoRet?: number;
  args?: Cond[];
}

function holds(c: Cond, args: bigint[]): boolean {
  const a = args[c.index] ?? 0n;
  switch (c.op) {
    case "SCMP_CMP_EQ": return a === c.value;
    case "SCMP_CMP_NE": return a !== c.value;
    case "SCMP_CMP_LT": return a < c.value;
    case "SCMP_CMP_LE": return a <= c.value;
    case "SCMP_CMP_GT": return a > c.value;
    case "SCMP_CMP_GE": return a >= c.value;
    case "SCMP_CMP_MASKED_EQ": return (a & c.value) === c.valueTwo;
  }
}

/** The documented semantics, evaluated directly on the rules. */
const reverse = new Map<SubArch, Map<number, string>>();
function nameOf(sub: SubArch, nr: number): string | undefined {
  let m = reverse.get(sub);
  if (!m) {
    const table = SUB_ARCHES[sub].table();
    m = new Map(Object.keys(table).map((n) => [table[n]!, n]));
    reverse.set(sub, m);
  }
  return m.get(nr);
}

function lastNamed(rules: Rule[], sub: SubArch): number {
  const table = SUB_ARCHES[sub].table();
  return Math.max(-1, ...rules.flatMap((r) => r.names.filter((n) => table[n] !== undefined).map((n) => table[n]!)));
}

function model(rules: Rule[], def: number, sub: SubArch, tableNr: number, args: bigint[], enosys: boolean, last: number): number {
  const name = nameOf(sub, tableNr);
  let best: { action: number; seq: number } | undefined;
  let uncond: number | undefined;
  let seq = 0;
  for (const r of rules) {
    const action = actionValue(r.action, r.errnoRet);
    const conds = r.args ?? [];
    const alts = new Set(conds.map((c) => c.index)).size < conds.length ? conds.map((c) => [c]) : [conds];
    for (const alt of alts) {
      seq++;
      if (!name || !r.names.includes(name)) continue;
      if (alt.length === 0) {
        if (uncond === undefined || actionRank(action) < actionRank(uncond)) uncond = action;
      } else if (alt.every((c) => holds(c, args))) {
        if (!best || actionRank(action) < actionRank(best.action)) best = { action, seq };
      }
    }
  }
  if (best) return best.action;
  if (uncond !== undefined) return uncond;
  if (enosys && last >= 0 && tableNr > last) return (SECCOMP_RET_ERRNO | ENOSYS) >>> 0;
  return def;
}

function randomProfile(r: () => number) {
  const pick = <T,>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;
  const names = Object.keys(SUB_ARCHES.SCMP_ARCH_X86_64.table());
  const rules: Rule[] = [];
  const n = 1 + Math.floor(r() * 40);
  for (let i = 0; i < n; i++) {
    const rule: Rule = { names: Array.from({ length: 1 + Math.floor(r() * 8) }, () => pick(names)), action: pick(ACTIONS) };
    if (rule.action === "SCMP_ACT_ERRNO" || rule.action === "SCMP_ACT_TRACE") rule.errnoRet = Math.floor(r() * 200);
    if (r() < 0.5) {
      rule.args = Array.from({ length: 1 + Math.floor(r() * 3) }, () => {
        const op = pick(OPERATORS);
        const value = pick(VALUES);
        return { index: Math.floor(r() * 3), op, value, valueTwo: op === "SCMP_CMP_MASKED_EQ" && r() < 0.7 ? value & pick(VALUES) : 0n };
      });
    }
    rules.push(rule);
  }
  const defaultAction = pick(ACTIONS);
  return { rules, defaultAction, x32: r() < 0.5 };
}

describe("random profiles agree with the model", () => {
  for (let seed = 1; seed <= 30; seed++) {
    test(`seed ${seed}`, () => {
      const r = rng(seed);
      const { rules, defaultAction, x32 } = randomProfile(r);
      const architectures = x32 ? ["SCMP_ARCH_X86", "SCMP_ARCH_X32"] : ["SCMP_ARCH_X86"];
      const profile = parseSeccompProfile({ defaultAction, architectures, syscalls: rules });
      const filter = decodeProgram(compileSeccomp(profile, { arch: "x64", capabilities: [] }).filter);
      const def = actionValue(defaultAction, undefined);
      const enosys = !["SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_TRACE"].includes(defaultAction);
      const lasts: Partial<Record<SubArch, number>> = {};
      for (const sub of ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"] as const) lasts[sub] = lastNamed(rules, sub);
      const argSets = Array.from({ length: 4 }, () => [0, 1, 2].map(() => VALUES[Math.floor(r() * VALUES.length)]!));
      const cases: [SubArch, number, number][] = [];
      for (let nr = 0; nr < 480; nr++) cases.push(["SCMP_ARCH_X86_64", AUDIT_ARCH_X86_64, nr], ["SCMP_ARCH_X86", AUDIT_ARCH_I386, nr]);
      if (x32) for (let nr = 0; nr < 560; nr += 3) cases.push(["SCMP_ARCH_X32", AUDIT_ARCH_X86_64, nr]);
      for (const [sub, audit, tableNr] of cases) {
        for (const args of argSets) {
          const narrow = sub === "SCMP_ARCH_X86" ? args.map((a) => a & 0xffffffffn) : args;
          const nr = sub === "SCMP_ARCH_X32" ? (tableNr | X32_SYSCALL_BIT) >>> 0 : tableNr;
          const got = runFilter(filter, { nr, arch: audit, args: narrow }).action;
          const want = model(rules, def, sub, tableNr, narrow, enosys, lasts[sub]!);
          if (got !== want) {
            throw new Error(`${sub} nr ${tableNr} args ${narrow.map((a) => a.toString(16))}: got ${describeAction(got)}, want ${describeAction(want)}`);
          }
        }
      }
      if (!x32) expect(describeAction(runFilter(filter, { nr: X32_SYSCALL_BIT, arch: AUDIT_ARCH_X86_64 }).action)).toBe("KILL_THREAD");
    });
  }
});
