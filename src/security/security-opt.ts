/**
 * `--security-opt` in docker's syntax: KEY=VALUE, or the older KEY:VALUE.
 *   seccomp=unconfined | seccomp=PATH      (default: Docker's profile)
 *   no-new-privileges[=true|false]          (also no-new-privileges:true)
 *   systempaths=unconfined                  (no masked or read-only /proc, /sys paths)
 *   apparmor=unconfined, label=disable      (accepted: pelagos applies no LSM profile)
 * Pure: a profile path is only recorded here; it is read by the caller.
 */
import { UsageError } from "../errors.ts";

export type SecurityOpts = {
  seccomp: { kind: "default" } | { kind: "unconfined" } | { kind: "file"; path: string };
  /** undefined: not given (docker's default is off) */
  noNewPrivileges?: boolean;
  systemPaths: "default" | "unconfined";
};

function parseBool(v: string, opt: string): boolean {
  if (["true", "1", "yes"].includes(v.toLowerCase())) return true;
  if (["false", "0", "no"].includes(v.toLowerCase())) return false;
  throw new UsageError(`Invalid --security-opt "${opt}": expected true or false`);
}

function split(opt: string): [string, string | undefined] {
  const eq = opt.indexOf("=");
  if (eq >= 0) return [opt.slice(0, eq), opt.slice(eq + 1)];
  const colon = opt.indexOf(":");
  if (colon >= 0) return [opt.slice(0, colon), opt.slice(colon + 1)];
  return [opt, undefined];
}

export function parseSecurityOpts(list: readonly string[]): SecurityOpts {
  const out: SecurityOpts = { seccomp: { kind: "default" }, systemPaths: "default" };
  for (const opt of list) {
    const [key, value] = split(opt);
    switch (key) {
      case "no-new-privileges":
        out.noNewPrivileges = value === undefined ? true : parseBool(value, opt);
        break;
      case "seccomp":
        if (!value) throw new UsageError(`Invalid --security-opt "${opt}": expected seccomp=unconfined or seccomp=PATH`);
        out.seccomp = value === "unconfined" ? { kind: "unconfined" } : { kind: "file", path: value };
        break;
      case "systempaths":
        if (value !== "unconfined") throw new UsageError(`Invalid --security-opt "${opt}": the only value is systempaths=unconfined`);
        out.systemPaths = "unconfined";
        break;
      case "apparmor":
        if (value !== "unconfined") throw new UsageError(`Unsupported --security-opt "${opt}": pelagos does not load AppArmor profiles (only apparmor=unconfined is accepted)`);
        break;
      case "label":
        if (value !== "disable") throw new UsageError(`Unsupported --security-opt "${opt}": pelagos does not apply SELinux labels (only label=disable is accepted)`);
        break;
      default:
        throw new UsageError(`Invalid --security-opt "${opt}": expected seccomp=..., no-new-privileges[=true|false], systempaths=unconfined, apparmor=unconfined or label=disable`);
    }
  }
  return out;
}
