/**
 * Errors of the image subsystem. `code` says what failed so callers (and
 * tests) branch on it: E_REF (bad reference), E_AUTH (401/403), E_NOT_FOUND,
 * E_RATE_LIMIT (429), E_TLS, E_NETWORK, E_REGISTRY (other HTTP status),
 * E_DIGEST (content does not match its digest), E_UNPACK, E_PLATFORM,
 * E_UNSUPPORTED, E_IN_USE, E_NO_IMAGE, E_ARCHIVE, E_CREDENTIALS, E_STORE (the
 * store's file system refused a write: full, over quota, read-only, I/O error).
 */
import { PelagosError } from "../errors.ts";
import { errnoDescription, errnoNumber } from "../../ffi/errno.ts";

export type ImageErrorCode =
  | "E_REF" | "E_AUTH" | "E_NOT_FOUND" | "E_RATE_LIMIT" | "E_TLS" | "E_NETWORK" | "E_REGISTRY"
  | "E_DIGEST" | "E_UNPACK" | "E_PLATFORM" | "E_UNSUPPORTED" | "E_IN_USE" | "E_NO_IMAGE" | "E_ARCHIVE"
  | "E_CREDENTIALS" | "E_STORE";

export class ImageError extends PelagosError {
  override name = "ImageError";
  constructor(code: ImageErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** Errors worth another attempt: connection failures and 5xx/429 answers. */
export function isTransient(e: unknown): boolean {
  return e instanceof ImageError && (e.code === "E_NETWORK" || (e as ImageError & { transient?: boolean }).transient === true);
}

const STORE_ERRNOS = new Set(["ENOSPC", "EDQUOT", "EROFS", "EIO", "EFBIG"]);

/**
 * `e` as an E_STORE error when it is the store's file system refusing a
 * write (a SysError or a node:fs error with one of those codes), else `e`.
 * What was written is rolled back by the steps that wrote it.
 */
export function asStoreError(e: unknown, what: string, dataDir: string): unknown {
  const code = (e as { code?: unknown } | undefined)?.code;
  if (e instanceof ImageError || typeof code !== "string" || !STORE_ERRNOS.has(code)) return e;
  return new ImageError("E_STORE", `${what}: cannot write to the image store "${dataDir}": ${errnoDescription(errnoNumber(code)!)} (${code})`, { cause: e });
}
