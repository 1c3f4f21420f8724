/**
 * Boots the pure cgroup-v2 test VM once and runs test/vm-guest/*.test.ts in it
 * with `bun test`. Skipped (with the reason) where qemu or the kernel cannot be had.
 */
import { expect, test } from "bun:test";
import { getKernel } from "./kernel.ts";
import { runVm, vmUnavailable } from "./qemu.ts";

let why = vmUnavailable();
if (!why) {
  try {
    getKernel();
  } catch (e) {
    why = `cannot get the kernel: ${(e as Error).message}`;
  }
}
if (why) console.log(`skip cgroup-v2 VM tests: ${why}`);

test.skipIf(why !== undefined)("guest tests pass on a pure cgroup-v2 kernel", async () => {
  const r = await runVm({ command: ["node_modules/.bin/bun", "test", "test/vm-guest"], timeoutMs: 420_000 });
  console.log(r.output);
  console.log(`[vm] ${r.kernelImage}: boot-to-command ${((r.bootMs ?? 0) / 1000).toFixed(2)} s, total ${(r.totalMs / 1000).toFixed(2)} s`);
  expect(r.output).toMatch(/\b0 fail\b/);
  expect(r.output).not.toMatch(/\b0 pass\b/);
  expect(r.exitCode).toBe(0);
}, 450_000);
