/**
 * valibot schemas for the OCI image documents (image-spec v1.1) and Docker
 * schema 2. `object` (not strict): unknown properties are ignored as the spec
 * requires; values we rely on are checked.
 */
import * as v from "valibot";

export const Digest = v.pipe(v.string(), v.regex(/^sha256:[a-f0-9]{64}$/, "expected a sha256 digest"));

export const Platform = v.object({
  architecture: v.string(),
  os: v.string(),
  variant: v.optional(v.string()),
  "os.version": v.optional(v.string()),
  "os.features": v.optional(v.array(v.string())),
});
export type Platform = v.InferOutput<typeof Platform>;

export const Descriptor = v.object({
  mediaType: v.string(),
  digest: Digest,
  size: v.pipe(v.number(), v.integer(), v.minValue(0)),
  urls: v.optional(v.array(v.string())),
  annotations: v.optional(v.record(v.string(), v.string())),
  platform: v.optional(Platform),
});
export type Descriptor = v.InferOutput<typeof Descriptor>;

export const Index = v.object({
  schemaVersion: v.literal(2),
  mediaType: v.optional(v.string()),
  manifests: v.array(Descriptor),
  annotations: v.optional(v.record(v.string(), v.string())),
});
export type Index = v.InferOutput<typeof Index>;

export const Manifest = v.object({
  schemaVersion: v.literal(2),
  mediaType: v.optional(v.string()),
  config: Descriptor,
  layers: v.array(Descriptor),
  annotations: v.optional(v.record(v.string(), v.string())),
});
export type Manifest = v.InferOutput<typeof Manifest>;

const StringMap = v.optional(v.nullable(v.record(v.string(), v.string())));
const EmptyObjectMap = v.optional(v.nullable(v.record(v.string(), v.unknown())));
const StringList = v.optional(v.nullable(v.array(v.string())));

export const ImageConfig = v.object({
  User: v.optional(v.string()),
  ExposedPorts: EmptyObjectMap,
  Env: StringList,
  Entrypoint: StringList,
  Cmd: StringList,
  Volumes: EmptyObjectMap,
  WorkingDir: v.optional(v.string()),
  Labels: StringMap,
  StopSignal: v.optional(v.string()),
});
export type ImageConfig = v.InferOutput<typeof ImageConfig>;

export const ConfigFile = v.object({
  created: v.optional(v.string()),
  author: v.optional(v.string()),
  architecture: v.string(),
  os: v.string(),
  variant: v.optional(v.string()),
  config: v.optional(v.nullable(ImageConfig)),
  rootfs: v.object({ type: v.literal("layers"), diff_ids: v.array(Digest) }),
  history: v.optional(v.array(v.unknown())),
});
export type ConfigFile = v.InferOutput<typeof ConfigFile>;

/** `index.json` of an OCI image layout (same shape as an index). */
export const LayoutIndex = Index;

/** One entry of a `docker save` archive's manifest.json. */
export const DockerArchiveEntry = v.object({
  Config: v.string(),
  RepoTags: v.optional(v.nullable(v.array(v.string()))),
  Layers: v.array(v.string()),
});
export const DockerArchiveManifest = v.array(DockerArchiveEntry);

/** Parses JSON bytes against a schema; the error names the document and the first issue's path. */
export function parseDocument<S extends v.GenericSchema>(schema: S, bytes: Uint8Array | string, what: string): v.InferOutput<S> {
  let raw: unknown;
  try {
    raw = JSON.parse(typeof bytes === "string" ? bytes : new TextDecoder().decode(bytes));
  } catch (e) {
    throw new DocumentError(`Cannot parse ${what}: ${(e as Error).message}`);
  }
  const r = v.safeParse(schema, raw);
  if (!r.success) {
    const issue = r.issues[0];
    const path = issue?.path?.map((p) => String(p.key)).join(".") ?? "";
    throw new DocumentError(`Invalid ${what}${path ? ` at ${path}` : ""}: ${issue?.message ?? "invalid"}`);
  }
  return r.output;
}

export class DocumentError extends Error {
  override name = "DocumentError";
}
