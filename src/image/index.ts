/** The image subsystem's public API (for `run` and the CLI). */
export { prepareImageRootfs, type PreparedImage, type PrepareOptions, type PullPolicy } from "./prepare.ts";
export { registerImageUse, unregisterImageUse } from "./store/users.ts";
export { pullImage, type PullOptions } from "./pull.ts";
export { parseReference, formatReference, familiarName, type Reference } from "./reference.ts";
export { ImageError } from "./errors.ts";
export type { ImageConfig } from "../oci/image/schemas.ts";
export { dataDir } from "./store/paths.ts";
