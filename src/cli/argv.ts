/**
 * Flag parsing for every command. citty describes the commands (names,
 * descriptions, usage); this parser applies those descriptions strictly:
 * unknown flags are errors, repeated flags accumulate when declared
 * `multiple`, and commands that run a program stop at the first positional
 * (`pelagos run --rootfs r sh -c 'x'` passes `-c` to the program).
 */
import { UsageError } from "../errors.ts";

export type FlagDef = {
  type: "boolean" | "string" | "positional";
  alias?: string | string[];
  multiple?: boolean;
  description?: string;
  default?: unknown;
  valueHint?: string;
  required?: boolean;
};

export type Parsed = {
  flags: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
};

export function parseFlags(argv: string[], defs: Record<string, FlagDef>, opts: { stopAtPositional?: boolean } = {}): Parsed {
  const byName = new Map<string, [string, FlagDef]>();
  for (const [name, raw] of Object.entries(defs)) {
    const def = raw as FlagDef;
    if (def.type === "positional") continue;
    byName.set(name, [name, def]);
    const aliases = def.alias === undefined ? [] : Array.isArray(def.alias) ? def.alias : [def.alias];
    for (const a of aliases) byName.set(a, [name, def]);
  }
  const flags: Parsed["flags"] = {};
  const positionals: string[] = [];
  const set = (name: string, def: FlagDef, value: string | boolean) => {
    if (def.multiple) {
      const prev = flags[name];
      flags[name] = [...(Array.isArray(prev) ? prev : []), String(value)];
    } else flags[name] = value;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg.startsWith("-") && arg !== "-") {
      let key: string;
      let inline: string | undefined;
      if (arg.startsWith("--")) {
        const eq = arg.indexOf("=");
        key = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
        inline = eq === -1 ? undefined : arg.slice(eq + 1);
        let hit = byName.get(key);
        if (!hit && key.startsWith("no-") && inline === undefined) {
          const neg = byName.get(key.slice(3));
          if (neg && neg[1].type === "boolean") {
            flags[neg[0]] = false;
            continue;
          }
        }
        if (!hit) throw new UsageError(`Unknown flag "--${key}"`);
        const [name, def] = hit;
        if (def.type === "boolean") {
          if (inline !== undefined && !["true", "false"].includes(inline))
            throw new UsageError(`Flag "--${key}" takes no value, got "${inline}"`);
          set(name, def, inline === undefined ? true : inline === "true");
        } else {
          const value = inline ?? argv[++i];
          if (value === undefined) throw new UsageError(`Flag "--${key}" needs a value`);
          set(name, def, value);
        }
        continue;
      }
      // short flags, possibly bundled (-it) or with an attached value (-eFOO=1)
      for (let j = 1; j < arg.length; j++) {
        const ch = arg[j]!;
        const hit = byName.get(ch);
        if (!hit) throw new UsageError(`Unknown flag "-${ch}"${arg.length > 2 ? ` in "${arg}"` : ""}`);
        const [name, def] = hit;
        if (def.type === "boolean") {
          set(name, def, true);
          continue;
        }
        const rest = arg.slice(j + 1);
        const value = rest !== "" ? rest : argv[++i];
        if (value === undefined) throw new UsageError(`Flag "-${ch}" needs a value`);
        set(name, def, value);
        break;
      }
      continue;
    }
    positionals.push(arg);
    if (opts.stopAtPositional) {
      positionals.push(...argv.slice(i + 1));
      break;
    }
  }
  for (const [name, raw] of Object.entries(defs)) {
    const def = raw as FlagDef;
    if (def.type !== "positional" && flags[name] === undefined && def.default !== undefined)
      flags[name] = def.default as string | boolean;
  }
  return { flags, positionals };
}

export function str(p: Parsed, name: string): string | undefined {
  const v = p.flags[name];
  if (v === undefined || typeof v === "string") return v;
  if (Array.isArray(v)) return v[v.length - 1];
  throw new UsageError(`Flag "--${name}" needs a value`);
}

export function bool(p: Parsed, name: string): boolean {
  return p.flags[name] === true;
}

export function list(p: Parsed, name: string): string[] {
  const v = p.flags[name];
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [String(v)];
}
