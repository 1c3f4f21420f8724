/**
 * config.json (OCI runtime-spec 1.x) as valibot schemas and the types inferred from them.
 * Objects are not strict: the spec says unknown properties MUST be ignored, so they are
 * dropped. Values are strict: anything invalid or unsupported is a ConfigError whose path
 * is the JSON path of the first offending value.
 */
import * as v from "valibot";
import { ConfigError } from "../../errors.ts";
import { checkConfig } from "./config-checks.ts";
import { LinuxSchema } from "./config-linux.ts";
import { ProcessSchema } from "./config-process.ts";
import { absPath, bool, envList, idMapping, intIn, obj, PARSE_OPTIONS, rec, show, str, strArray } from "./fields.ts";
import { issuePath } from "./issue-path.ts";

export * from "./config-linux.ts";
export * from "./config-process.ts";
export * from "./config-resources.ts";
export * from "./config-seccomp.ts";
export type { OciIdMapping } from "./fields.ts";

/** Any 1.x release, pre-releases included: runc 1.1 writes "1.0.2-dev". */
const OCI_VERSION = /^1\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]*)?$/;
const ociVersion = v.custom<string>(
  (s) => typeof s === "string" && OCI_VERSION.test(s),
  (i) => `must be a 1.x runtime-spec version like "1.2.0", got ${show(i.input)}`,
);

const nonEmptyKey = v.custom<string>((k) => typeof k === "string" && k.length > 0, "must not be an empty key");

export const MountSchema = obj({
  destination: absPath,
  type: v.optional(str),
  source: v.optional(str),
  options: v.optional(strArray),
  uidMappings: v.optional(v.array(idMapping)),
  gidMappings: v.optional(v.array(idMapping)),
});

export const HookSchema = obj({
  path: absPath,
  args: v.optional(strArray),
  env: v.optional(envList),
  timeout: v.optional(intIn(1, 2147483647, "a positive number of seconds")),
});

const hookList = v.optional(v.array(HookSchema));

export const HooksSchema = obj({
  prestart: hookList,
  createRuntime: hookList,
  createContainer: hookList,
  startContainer: hookList,
  poststart: hookList,
  poststop: hookList,
});

export const RootSchema = obj({ path: str, readonly: v.optional(bool) });

export const ConfigSchema = obj({
  ociVersion,
  process: v.optional(ProcessSchema),
  root: RootSchema,
  hostname: v.optional(str),
  domainname: v.optional(str),
  mounts: v.optional(v.array(MountSchema)),
  hooks: v.optional(HooksSchema),
  // config.md: annotation keys MUST NOT be an empty string.
  annotations: v.optional(rec(nonEmptyKey, str)),
  linux: v.optional(LinuxSchema),
});

export type OciConfig = v.InferOutput<typeof ConfigSchema>;
export type OciMount = v.InferOutput<typeof MountSchema>;
export type OciHook = v.InferOutput<typeof HookSchema>;
export type OciHooks = v.InferOutput<typeof HooksSchema>;
export type OciRoot = v.InferOutput<typeof RootSchema>;
export type OciHookName = keyof OciHooks;
/** A config that can be created: `process` is present. */
export type OciRunnableConfig = OciConfig & { process: NonNullable<OciConfig["process"]> };

/** Validates a parsed JSON value as config.json; throws ConfigError for the first problem. */
export function parseConfig(raw: unknown): OciConfig {
  const result = v.safeParse(ConfigSchema, raw, PARSE_OPTIONS);
  if (!result.success) {
    const issue = result.issues[0];
    throw new ConfigError(issuePath(issue), issue.message);
  }
  checkConfig(result.output);
  return result.output;
}

/** Parses config.json text; `file` names the source in JSON syntax errors. */
export function parseConfigText(text: string, file: string): OciConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ConfigError("", `cannot parse "${file}" as JSON: ${jsonReason(e)}`);
  }
  return parseConfig(raw);
}

/** Engines prefix their reason ("JSON Parse error: …", "Unexpected token …"); keep the reason only. */
function jsonReason(e: unknown): string {
  const m = (e instanceof Error ? e.message : String(e)).replace(/^JSON Parse error: /, "");
  return m.length === 0 ? "invalid JSON" : m[0]!.toLowerCase() + m.slice(1);
}

/** `create`/`run` need a process; `process` is optional in the spec itself. */
export function requireProcess(config: OciConfig): OciRunnableConfig {
  if (config.process === undefined) throw new ConfigError("process", "is required to create a container");
  return config as OciRunnableConfig;
}

export { loadBundleConfig } from "./bundle.ts";
