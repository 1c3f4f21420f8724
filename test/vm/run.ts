#!/usr/bin/env bun
/**
 * Runs a command in the cgroup-v2 test VM, by hand:
 *
 *   bun run test/vm/run.ts -- node_modules/.bin/bun test test/vm-guest
 *
 * The command runs as root in the project directory (shared read-only);
 * /tmp is the VM's own tmpfs. Exit status = the command's. Set
 * PELAGOS_VM_CONSOLE=1 to print the guest console afterwards.
 */
import { runVm, vmUnavailable } from "./qemu.ts";

const argv = process.argv.slice(2);
const command = argv[0] === "--" ? argv.slice(1) : argv;
if (command.length === 0) {
  console.error("usage: bun run test/vm/run.ts -- COMMAND [ARG...]");
  process.exit(2);
}
const why = vmUnavailable();
if (why) {
  console.error(`Cannot start the test VM: ${why}`);
  process.exit(125);
}
const r = await runVm({ command, onOutput: (t) => process.stdout.write(t), forceBzImage: process.env.PELAGOS_VM_BZIMAGE === "1" });
if (process.env.PELAGOS_VM_CONSOLE === "1") process.stderr.write(`--- console ---\n${r.console}\n`);
const boot = r.bootMs === undefined ? "?" : (r.bootMs / 1000).toFixed(2);
process.stderr.write(`[vm] ${r.kernelImage}: boot-to-command ${boot} s, total ${(r.totalMs / 1000).toFixed(2)} s, exit ${r.exitCode}\n`);
process.exit(r.exitCode);
