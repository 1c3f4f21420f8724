/**
 * /proc/self/mountinfo, read once per command: the cgroup layout and the host
 * facts of a plan both need it, and nothing pelagos does in between mounts
 * anything in its own mount namespace.
 */
import { readFileSync } from "node:fs";

let text: string | undefined;

export function selfMountinfo(): string {
  return (text ??= readFileSync("/proc/self/mountinfo", "utf8"));
}
