/** OCI `start`: release a created container's init into the user program. */
import { unlinkSync } from "node:fs";
import * as sys from "../../../ffi/sys.ts";
import type { Context } from "../../cli/context.ts";
import { StateError } from "../../errors.ts";
import { runHooks } from "../../hooks/index.ts";
import type { OciConfig } from "../../oci/runtime/config.ts";
import { ociFifo, validateId } from "../../state/paths.ts";
import { loadRecord, ociStateJson, statusOf } from "../oci-state.ts";
import { withLock } from "../lock.ts";

export async function startContainer(ctx: Context, rawId: string): Promise<void> {
  const id = validateId(rawId);
  await withLock(ctx.root, id, async () => {
    const r = loadRecord(ctx.root, id);
    const status = statusOf(ctx.root, r);
    if (status !== "created") throw new StateError("E_STATE", `Cannot start container "${id}": it is ${status}, not created`, { exitCode: 1 });
    const fifo = ociFifo(ctx.root, id);
    let fd: number;
    try {
      fd = sys.openFifoWriter(fifo);
    } catch {
      throw new StateError("E_STATE", `Cannot start container "${id}": its init is not waiting`, { exitCode: 1 });
    }
    try {
      sys.writeAll(fd, new Uint8Array([0]));
    } finally {
      sys.close(fd);
    }
    unlinkSync(fifo);
    const config = r.config as OciConfig;
    await runHooks("poststart", config.hooks?.poststart, ociStateJson(ctx.root, r, "running")).catch((e) =>
      ctx.log.warn((e as Error).message),
    );
  });
}
