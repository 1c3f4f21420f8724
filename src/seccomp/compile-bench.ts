#!/usr/bin/env bun
/**
 * Measures compileSeccomp on Docker's default profile: module import, the first (cold) compile
 * in a fresh process, and the warm average. `bun src/seccomp/compile-bench.ts [x64|arm64]`;
 * for the shipped form, build it with `bun build --compile --bytecode` and run the binary.
 */
export {};

const arch = (process.argv[2] ?? (process.arch === "arm64" ? "arm64" : "x64")) as "x64" | "arm64";
const t0 = performance.now();
const { compileSeccomp, dockerDefaultProfile } = await import("./index.ts");
const t1 = performance.now();
const opts = { arch, capabilities: ["CAP_CHOWN", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT"], kernel: [6, 1] as [number, number] };
const c1 = process.cpuUsage();
const first = compileSeccomp(dockerDefaultProfile(), opts);
const t2 = performance.now();
const c2 = process.cpuUsage(c1);
const runs = 200;
for (let i = 0; i < runs; i++) compileSeccomp(dockerDefaultProfile(), opts);
const t3 = performance.now();
console.log(
  JSON.stringify({
    arch,
    importMs: +(t1 - t0).toFixed(2),
    firstCompileMs: +(t2 - t1).toFixed(2),
    /** CPU time of the first compile: less sensitive to a busy machine than wall time. */
    firstCompileCpuMs: +((c2.user + c2.system) / 1000).toFixed(2),
    warmMs: +((t3 - t2) / runs).toFixed(3),
    instructions: first.instructions,
    skipped: first.skipped.length,
  }),
);
