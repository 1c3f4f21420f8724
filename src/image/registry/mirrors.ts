/**
 * Registry mirrors, read from /etc/pelagos/registries.toml (or
 * $PELAGOS_REGISTRIES). The supported subset of TOML:
 *
 *   [mirrors]
 *   "docker.io" = ["http://127.0.0.1:5000", "mirror.example.com"]
 *
 * Mirrors are tried in order, then the origin; the image is stored under its
 * canonical name. An http:// mirror is contacted over plain HTTP.
 */
import { readFileSync } from "node:fs";
import { ConfigError } from "../../errors.ts";

export function registriesConfigPath(): string {
  return process.env.PELAGOS_REGISTRIES || "/etc/pelagos/registries.toml";
}

export function parseMirrors(text: string, path = "registries.toml"): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let section = "";
  for (const [i, raw] of text.split("\n").entries()) {
    const line = raw.replace(/(^|\s)#.*$/, "").trim();
    if (line === "") continue;
    const sec = /^\[([^\]]+)\]$/.exec(line);
    if (sec) {
      section = sec[1]!.trim();
      continue;
    }
    if (section !== "mirrors") continue;
    const kv = /^"?([^"=]+?)"?\s*=\s*(\[.*\])$/.exec(line);
    if (!kv) throw new ConfigError(`${path}:${i + 1}`, `expected "registry" = ["mirror", …]`);
    let list: unknown;
    try {
      list = JSON.parse(kv[2]!.replace(/'/g, '"').replace(/,\s*\]$/, "]"));
    } catch {
      throw new ConfigError(`${path}:${i + 1}`, "the mirror list is not an array of strings");
    }
    if (!Array.isArray(list) || !list.every((x) => typeof x === "string")) throw new ConfigError(`${path}:${i + 1}`, "the mirror list is not an array of strings");
    out.set(kv[1]!.trim(), list as string[]);
  }
  return out;
}

export function mirrorsFor(registry: string): string[] {
  let text: string;
  try {
    text = readFileSync(registriesConfigPath(), "utf8");
  } catch {
    return [];
  }
  return parseMirrors(text, registriesConfigPath()).get(registry) ?? [];
}
