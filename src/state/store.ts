/**
 * State on disk: written atomically (temp file in the same directory, then
 * rename), read back through a valibot schema that names the file and the
 * JSON path of the first problem. Runtime state lives under /run (tmpfs on a
 * normal host) and describes processes that do not survive a reboot, so it is
 * not fsync'ed: rename alone gives readers all-or-nothing. Pass
 * `durable: true` for files that must survive a power loss.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import * as v from "valibot";
import { StateError } from "../errors.ts";

export function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o644, o: { durable?: boolean } = {}): void {
  const tmp = `${dirname(path)}/.${path.split("/").pop()}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  const fd = openSync(tmp, "wx", mode);
  try {
    writeSync(fd, typeof data === "string" ? Buffer.from(data) : data);
    if (o.durable) fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    unlinkSync(tmp);
    throw e;
  }
  closeSync(fd);
  try {
    renameSync(tmp, path);
  } catch (e) {
    unlinkSync(tmp);
    throw e;
  }
}

export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
}

/** Reads and validates a JSON file; undefined if it does not exist. */
export function readJson<S extends v.GenericSchema>(path: string, schema: S): v.InferOutput<S> | undefined {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new StateError("E_STATE_READ", `Cannot read "${path}": ${(e as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new StateError("E_STATE_CORRUPT", `Cannot parse "${path}": ${(e as Error).message}`);
  }
  const r = v.safeParse(schema, raw);
  if (!r.success) {
    const issue = r.issues[0];
    const where = issue.path?.map((p) => String(p.key)).join(".") ?? "";
    throw new StateError("E_STATE_CORRUPT", `Invalid state in "${path}"${where ? ` at ${where}` : ""}: ${issue.message}`);
  }
  return r.output;
}
