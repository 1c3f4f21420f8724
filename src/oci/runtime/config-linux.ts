/** `linux` of config.json: namespaces, id maps, devices, cgroups, seccomp and friends. */
import * as v from "valibot";
import { ResourcesSchema } from "./config-resources.ts";
import { SeccompSchema } from "./config-seccomp.ts";
import { absPath, i64, id32, idMapping, intIn, obj, oneOf, rec, str, strArray, strMap, u32 } from "./fields.ts";
import { DEVICE_TYPES, NAMESPACE_TYPES, PERSONALITY_DOMAINS, ROOTFS_PROPAGATIONS } from "./names.ts";

export const NamespaceSchema = obj({
  type: oneOf(NAMESPACE_TYPES),
  path: v.optional(absPath),
});

export const DeviceSchema = obj({
  type: oneOf(DEVICE_TYPES),
  path: absPath,
  major: v.optional(i64),
  minor: v.optional(i64),
  fileMode: v.optional(u32),
  uid: v.optional(id32),
  gid: v.optional(id32),
});

const timeOffset = obj({
  secs: v.optional(i64),
  nanosecs: v.optional(intIn(0, 999999999, "an integer from 0 to 999999999")),
});

export const PersonalitySchema = obj({
  domain: oneOf(PERSONALITY_DOMAINS),
  flags: v.optional(strArray),
});

/** Intel RDT is accepted and type-checked only; nothing in pelagos applies it yet. */
export const IntelRdtSchema = obj({
  closID: v.optional(str),
  l3CacheSchema: v.optional(str),
  memBwSchema: v.optional(str),
  schemata: v.optional(strArray),
  enableMonitoring: v.optional(v.boolean()),
  enableCMT: v.optional(v.boolean()),
  enableMBM: v.optional(v.boolean()),
});

export const LinuxSchema = obj({
  namespaces: v.optional(v.array(NamespaceSchema)),
  uidMappings: v.optional(v.array(idMapping)),
  gidMappings: v.optional(v.array(idMapping)),
  timeOffsets: v.optional(rec(oneOf(["monotonic", "boottime"] as const), timeOffset)),
  devices: v.optional(v.array(DeviceSchema)),
  netDevices: v.optional(rec(str, obj({ name: v.optional(str) }))),
  cgroupsPath: v.optional(str),
  resources: v.optional(ResourcesSchema),
  intelRdt: v.optional(IntelRdtSchema),
  sysctl: v.optional(strMap),
  seccomp: v.optional(SeccompSchema),
  rootfsPropagation: v.optional(oneOf(ROOTFS_PROPAGATIONS)),
  maskedPaths: v.optional(v.array(absPath)),
  readonlyPaths: v.optional(v.array(absPath)),
  mountLabel: v.optional(str),
  personality: v.optional(PersonalitySchema),
});

export type OciLinux = v.InferOutput<typeof LinuxSchema>;
export type OciNamespace = v.InferOutput<typeof NamespaceSchema>;
export type OciDevice = v.InferOutput<typeof DeviceSchema>;
export type OciPersonality = v.InferOutput<typeof PersonalitySchema>;
