import { describe, expect, test } from "bun:test";
import { parseFlags } from "./argv.ts";

const defs = {
  env: { type: "string", alias: "e", multiple: true },
  rm: { type: "boolean" },
  interactive: { type: "boolean", alias: "i" },
  tty: { type: "boolean", alias: "t" },
  name: { type: "string" },
} as const;

describe("parseFlags()", () => {
  test("repeated flags accumulate; bundled short flags; = values", () => {
    const p = parseFlags(["-e", "A=1", "--env=B=2", "-it", "--name", "x", "cmd"], defs);
    expect(p.flags).toMatchObject({ env: ["A=1", "B=2"], interactive: true, tty: true, name: "x" });
    expect(p.positionals).toEqual(["cmd"]);
  });
  test("stops at the first positional for commands that run a program", () => {
    const p = parseFlags(["--rm", "sh", "-c", "echo --rm"], defs, { stopAtPositional: true });
    expect(p.positionals).toEqual(["sh", "-c", "echo --rm"]);
    expect(p.flags.rm).toBe(true);
  });
  test("unknown flags and missing values are errors", () => {
    expect(() => parseFlags(["--bogus"], defs)).toThrow('Unknown flag "--bogus"');
    expect(() => parseFlags(["-x"], defs)).toThrow('Unknown flag "-x"');
    expect(() => parseFlags(["--name"], defs)).toThrow("needs a value");
    expect(() => parseFlags(["--rm=maybe"], defs)).toThrow("takes no value");
  });
  test("-eK=V attached value", () => {
    expect(parseFlags(["-eK=V"], defs).flags.env).toEqual(["K=V"]);
  });
});
