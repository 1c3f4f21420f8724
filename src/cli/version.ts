import { defineCommand } from "./command.ts";
import { VERSION } from "../version.ts";

export default defineCommand({
  meta: { name: "version", description: "Print the pelagos version" },
  async run() {
    console.log(`pelagos version ${VERSION}`);
    console.log(`spec: 1.2.0`);
  },
});
