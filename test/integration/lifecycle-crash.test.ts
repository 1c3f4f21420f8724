/**
 * Crash safety: SIGKILL pelagos at random moments of `run -d`, or a
 * supervisor at any time. Afterwards (and after `pelagos cleanup`) every
 * container is either gone with nothing left, or running and fully
 * manageable (exec, stop, rm) — never running without an owner or record.
 */
import { beforeAll, describe, expect } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { busyboxRootfs } from "../helpers/rootfs.ts";
import { explain, PELAGOS_BIN, uniqueId } from "../helpers/pelagos.ts";
import { RUN_ENV, runToken } from "../helpers/tmp.ts";
import { itIf, requires } from "../helpers/requires.ts";
import { pidsWithArg, until, useLifecycleRoot } from "./lifecycle-helpers.ts";

const skip = requires("root", "busybox", "pelagos");
const rt = useLifecycleRoot();
let rootfs = "";
beforeAll(async () => {
  if (!skip) rootfs = await busyboxRootfs();
});

const dir = (name: string) => `${rt.root}/containers/${name}`;
const psRow = async (name: string) =>
  (JSON.parse((await rt.run(["ps", "-a", "--format", "json"])).stdout) as { name: string; state: string }[]).find((r) => r.name === name);

/** Starts `run -d` and SIGKILLs pelagos after `delayMs` (it may finish first). */
async function runAndKill(name: string, marker: string, delayMs: number): Promise<void> {
  const p = Bun.spawn([PELAGOS_BIN, "--root", rt.root, "run", "-d", "--name", name, "--rootfs", rootfs, "sleep", marker], {
    env: { ...process.env, [RUN_ENV]: runToken() }, stdout: "ignore", stderr: "ignore",
  });
  await Bun.sleep(delayMs);
  p.kill(9);
  await p.exited;
}

describe("crash safety", () => {
  itIf(skip, "pelagos killed at random points of run -d: each container is gone, or running and manageable", async () => {
    const outcomes = { gone: 0, running: 0 };
    for (let i = 0; i < 24; i++) {
      const name = uniqueId();
      const marker = `${30000 + i}${Math.floor(Math.random() * 1000)}`;
      await runAndKill(name, marker, Math.floor(Math.random() * 110));
      // give a supervisor that lost its runtime mid-start time to end its container
      await Bun.sleep(50);
      expect((await rt.run(["cleanup"])).code).toBe(0);
      const row = await psRow(name);
      const procs = pidsWithArg(marker);
      if (row?.state === "running") {
        outcomes.running++;
        expect(procs.length, name).toBe(1);
        const e = await rt.run(["exec", name, "true"]);
        expect(e.code, explain(e)).toBe(0);
        expect((await rt.run(["stop", "-t", "0", name])).code).toBe(0);
        const rmr = await rt.run(["rm", name]);
        expect(rmr.code, explain(rmr)).toBe(0);
      } else {
        outcomes.gone++;
        expect(row, `record of ${name}`).toBeUndefined();
        expect(existsSync(dir(name)), name).toBe(false);
        expect(await until(() => pidsWithArg(marker).length === 0, 5000), `processes of ${name}`).toBe(true);
      }
      expect(pidsWithArg(marker)).toEqual([]);
    }
    console.log(`crash loop: ${outcomes.gone} starts undone, ${outcomes.running} completed`);
  }, 120_000);

  itIf(skip, "pelagos killed at random points of start: the record stays; the container runs and is manageable, or is stopped", async () => {
    const name = uniqueId();
    const marker = `${50000 + Math.floor(Math.random() * 9999)}`;
    expect((await rt.run(["run", "-d", "--name", name, "--rootfs", rootfs, "sleep", marker])).code).toBe(0);
    expect((await rt.run(["stop", "-t", "0", name])).code).toBe(0);
    const seen = new Set<string>();
    for (let i = 0; i < 12; i++) {
      const p = Bun.spawn([PELAGOS_BIN, "--root", rt.root, "start", name], { env: { ...process.env, [RUN_ENV]: runToken() }, stdout: "ignore", stderr: "ignore" });
      await Bun.sleep(Math.floor(Math.random() * 110));
      p.kill(9);
      await p.exited;
      await Bun.sleep(50);
      expect((await rt.run(["cleanup"])).code).toBe(0);
      const state = (await psRow(name))?.state;
      expect(state, `record of ${name}`).toBeDefined();
      seen.add(state!);
      if (state === "running") {
        expect(pidsWithArg(marker).length).toBe(1);
        expect((await rt.run(["exec", name, "true"])).code).toBe(0);
        expect((await rt.run(["stop", "-t", "0", name])).code).toBe(0);
      }
      expect(await until(() => pidsWithArg(marker).length === 0, 5000)).toBe(true);
    }
    console.log(`start crash loop: states seen ${[...seen].join(", ")}`);
    expect((await rt.run(["rm", name])).code).toBe(0);
  }, 60_000);

  itIf(skip, "a killed supervisor takes its container with it; the record says dead and can be removed", async () => {
    const name = uniqueId();
    const marker = `${40000 + Math.floor(Math.random() * 9999)}`;
    expect((await rt.run(["run", "-d", "--name", name, "--rootfs", rootfs, "sleep", marker])).code).toBe(0);
    const s = JSON.parse(readFileSync(`${dir(name)}/state.json`, "utf8"));
    process.kill(s.watcher_pid, 9);
    expect(await until(() => pidsWithArg(marker).length === 0)).toBe(true);
    expect((await psRow(name))?.state).toBe("dead");
    expect((await rt.run(["cleanup"])).code).toBe(0);
    expect(existsSync(dir(name))).toBe(true); // not --rm: the record is the user's
    expect((await rt.run(["wait", name])).stdout.trim()).toBe("-1");
    expect((await rt.run(["rm", name])).code).toBe(0);
    // --rm: the next command's sweep removes it
    const n2 = uniqueId();
    expect((await rt.run(["run", "-d", "--rm", "--name", n2, "--rootfs", rootfs, "sleep", marker])).code).toBe(0);
    process.kill(JSON.parse(readFileSync(`${dir(n2)}/state.json`, "utf8")).watcher_pid, 9);
    expect(await until(() => pidsWithArg(marker).length === 0)).toBe(true);
    expect((await rt.run(["cleanup"])).stdout).toContain(n2);
    expect(existsSync(dir(n2))).toBe(false);
  });

  itIf(skip, "run -d --rm: the record goes once the container exited", async () => {
    const name = uniqueId();
    expect((await rt.run(["run", "-d", "--rm", "--name", name, "--rootfs", rootfs, "true"])).code).toBe(0);
    expect(await until(async () => !(await rt.run(["ps", "-aq"])).stdout.includes(name))).toBe(true);
    expect(existsSync(dir(name))).toBe(false);
  });
});
