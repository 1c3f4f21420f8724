/** `pelagos system …`: disk usage of the image store. */
import { defineCommand, lazy } from "./command.ts";

export default defineCommand({
  meta: { name: "system", description: "Show information about pelagos' storage" },
  subCommands: {
    df: lazy(() => import("./system/df.ts")),
  },
});
