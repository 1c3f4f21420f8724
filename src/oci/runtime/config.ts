// PLACEHOLDER until the valibot schema lands (branch oci): types only.
export type OciMount = { destination: string; type?: string; source?: string; options?: string[] };
export type OciHook = { path: string; args?: string[]; env?: string[]; timeout?: number };
export type OciNamespace = { type: string; path?: string };
export type OciIdMapping = { containerID: number; hostID: number; size: number };
export type OciDevice = { type: string; path: string; major?: number; minor?: number; fileMode?: number; uid?: number; gid?: number };
export type OciProcess = {
  terminal?: boolean;
  consoleSize?: { height: number; width: number };
  user: { uid: number; gid: number; umask?: number; additionalGids?: number[] };
  args?: string[];
  env?: string[];
  cwd: string;
  capabilities?: { bounding?: string[]; effective?: string[]; inheritable?: string[]; permitted?: string[]; ambient?: string[] };
  rlimits?: { type: string; soft: number; hard: number }[];
  noNewPrivileges?: boolean;
  oomScoreAdj?: number;
};
export type OciConfig = {
  ociVersion: string;
  process?: OciProcess;
  root?: { path: string; readonly?: boolean };
  hostname?: string;
  domainname?: string;
  mounts?: OciMount[];
  hooks?: { prestart?: OciHook[]; createRuntime?: OciHook[]; createContainer?: OciHook[]; startContainer?: OciHook[]; poststart?: OciHook[]; poststop?: OciHook[] };
  annotations?: Record<string, string>;
  linux?: {
    namespaces?: OciNamespace[];
    uidMappings?: OciIdMapping[];
    gidMappings?: OciIdMapping[];
    devices?: OciDevice[];
    sysctl?: Record<string, string>;
    maskedPaths?: string[];
    readonlyPaths?: string[];
    rootfsPropagation?: string;
    cgroupsPath?: string;
    resources?: Record<string, unknown>;
    seccomp?: unknown;
  };
};
export function parseConfig(raw: unknown): OciConfig {
  return raw as OciConfig;
}
import { readFileSync, realpathSync } from "node:fs";
import { resolve } from "node:path";
import { PelagosError } from "../../errors.ts";
export function loadBundleConfig(bundleDir: string): { config: OciConfig; bundle: string } {
  let bundle: string;
  try {
    bundle = realpathSync(resolve(bundleDir));
  } catch {
    throw new PelagosError("E_BUNDLE", `Cannot open bundle "${bundleDir}": no such directory`);
  }
  let text: string;
  try {
    text = readFileSync(`${bundle}/config.json`, "utf8");
  } catch {
    throw new PelagosError("E_BUNDLE", `Cannot read "${bundle}/config.json": no such file`);
  }
  return { config: parseConfig(JSON.parse(text)), bundle };
}
