import { defineCommand } from "../command.ts";
import { PelagosError } from "../../errors.ts";

export default defineCommand({
  meta: { name: "save", description: "Not implemented yet" },
  async run() {
    throw new PelagosError("E_UNSUPPORTED", "Not implemented yet");
  },
});
