import { describe, expect, test } from "bun:test";
import { parseSecurityOpts } from "./security-opt.ts";

describe("--security-opt", () => {
  test("defaults: Docker's seccomp profile, no_new_privs not requested", () => {
    expect(parseSecurityOpts([])).toEqual({ seccomp: { kind: "default" }, systemPaths: "default" });
  });
  test("no-new-privileges in docker's spellings", () => {
    for (const o of ["no-new-privileges", "no-new-privileges=true", "no-new-privileges:true", "no-new-privileges=1"])
      expect(parseSecurityOpts([o]).noNewPrivileges, o).toBe(true);
    expect(parseSecurityOpts(["no-new-privileges:false"]).noNewPrivileges).toBe(false);
    expect(() => parseSecurityOpts(["no-new-privileges=maybe"])).toThrow("expected true or false");
  });
  test("seccomp=unconfined and seccomp=PATH (= or :)", () => {
    expect(parseSecurityOpts(["seccomp=unconfined"]).seccomp).toEqual({ kind: "unconfined" });
    expect(parseSecurityOpts(["seccomp:/p.json"]).seccomp).toEqual({ kind: "file", path: "/p.json" });
    expect(() => parseSecurityOpts(["seccomp="])).toThrow("seccomp=unconfined or seccomp=PATH");
  });
  test("unknown options and LSM profiles are clear errors", () => {
    expect(() => parseSecurityOpts(["bogus"])).toThrow('Invalid --security-opt "bogus"');
    expect(() => parseSecurityOpts(["apparmor=docker-default"])).toThrow("does not load AppArmor");
    expect(parseSecurityOpts(["apparmor=unconfined", "label=disable", "systempaths=unconfined"]).systemPaths).toBe("unconfined");
  });
});
