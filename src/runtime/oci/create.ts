/** OCI `create` and `run`: a container from a bundle. */
import { mkdirSync, realpathSync, rmSync, statSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import * as sys from "../../../ffi/sys.ts";
import type { Context } from "../../cli/context.ts";
import { PelagosError, Undo, UsageError } from "../../errors.ts";
import { runHooks } from "../../hooks/index.ts";
import { readBundleConfig } from "../../oci/runtime/bundle-read.ts";
import { validatedConfig } from "../plan-cache.ts";
import { ociDir, ociFifo, validateId } from "../../state/paths.ts";
import { startInit } from "../start-init.ts";
import { SignalForwarder, waitForeground } from "../foreground.ts";
import { OCI_VERSION, saveRecord, type OciRecord } from "../oci-state.ts";
import { destroy } from "./delete.ts";
import { cgroupLeaf, createContainerCgroup } from "../cgroup-setup.ts";
import { mark } from "../../log/timing.ts";

export type CreateOptions = {
  id: string;
  bundle: string;
  pidFile?: string;
  consoleSocket?: string;
  preserveFds: number;
  /** run: foreground (attached) or detached (create + start) */
  mode: "create" | "run" | "run-detached";
  keep?: boolean;
};

export async function createContainer(ctx: Context, o: CreateOptions): Promise<number> {
  const id = validateId(o.id);
  mark("create: start");
  const { text, file, bundle } = readBundleConfig(o.bundle);
  const planCache = `${ctx.root}/.plans`;
  const config = await validatedConfig(planCache, text, async () => (await import("../../oci/runtime/config.ts")).parseConfigText(text, file));
  mark("create: config parsed");
  if (!config.root?.path) throw new UsageError(`The bundle's config.json has no root.path`);
  const rootfs = resolveRootfs(bundle, config.root.path);
  const undo = new Undo();
  const dir = ociDir(ctx.root, id);
  mkdirSync(ctx.root, { recursive: true, mode: 0o711 });
  try {
    mkdirSync(dir, { mode: 0o711 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") throw new PelagosError("E_EXISTS", `Container "${id}" already exists`, { exitCode: 1 });
    throw e;
  }
  undo.push(`remove ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
  const record: OciRecord = {
    version: 1, id, bundle, rootfs, pid: 0, pidStartTime: 0, created: new Date().toISOString(),
    owner: process.getuid?.() === 0 ? "root" : String(process.getuid?.()), annotations: config.annotations ?? {},
    config, cloneFlags: 0,
  };
  const fifo = o.mode === "run" ? undefined : ociFifo(ctx.root, id);
  const signals = o.mode === "run" ? new SignalForwarder() : undefined;
  let cgroup: Awaited<ReturnType<typeof createContainerCgroup>> | undefined;
  try {
    cgroup = await createContainerCgroup(cgroupLeaf(ctx.root, id), config, undo);
    record.cgroup = cgroup.state();
    if (fifo) sys.mknodFifo(fifo, 0o622);
    const hookState = (pid: number, status: string) => ({
      ociVersion: OCI_VERSION, id, status, pid, bundle, ...(config.annotations ? { annotations: config.annotations } : {}),
    });
    const init = await startInit({
      config, rootfs, mode: o.mode === "run" ? "run" : "create", execFifo: fifo,
      consoleSocket: o.consoleSocket, ownTerminal: o.mode === "run",
      stdio: ["inherit", "inherit", "inherit"], preserveFds: o.preserveFds, hookState, log: ctx.log, cacheDir: `${ctx.root}/.seccomp`, planCache, cgroup,
      onCreated: (pid, startTime, cloneFlags) => {
        undo.push(`kill process ${pid}`, () => void sys.tryKill(pid, 9));
        record.pid = pid;
        record.pidStartTime = startTime;
        record.cloneFlags = cloneFlags;
        saveRecord(ctx.root, record);
        if (o.pidFile) writeFileSync(resolve(o.pidFile), String(pid));
      },
    });
    cgroup.closeDirfd();
    mark("create: init started");
    undo.commit();
    if (o.mode === "create") return 0;
    if (o.mode === "run-detached") {
      const { startContainer } = await import("./start.ts");
      await startContainer(ctx, id);
      return 0;
    }
    // foreground run
    await runHooks("poststart", config.hooks?.poststart, hookState(init.pid, "running")).catch((e) =>
      ctx.log.warn((e as Error).message),
    );
    const code = await waitForeground(init, { interactive: true, signals: signals! });
    mark("create: container exited");
    if (!o.keep) await destroy(ctx, id, { force: true }).catch((e) => ctx.log.warn((e as Error).message));
    mark("create: destroyed");
    return code;
  } catch (e) {
    cgroup?.closeDirfd();
    signals?.dispose();
    await undo.rollback(e);
    throw e;
  }
}

function resolveRootfs(bundle: string, path: string): string {
  const abs = resolve(bundle, path);
  let real: string;
  try {
    real = realpathSync(abs);
  } catch {
    throw new UsageError(`Cannot use root filesystem "${abs}": no such directory`);
  }
  if (!statSync(real).isDirectory()) throw new UsageError(`Cannot use root filesystem "${abs}": not a directory`);
  return real;
}

