import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadConfig } from "../../src/config/load.js";
import { repoRoot } from "../helpers/paths.js";
import { Workspace } from "../helpers/workspace.js";

/** Config files as sqsd loads them: TypeScript through tsx, and JSON. */
describe("config files", () => {
  it("config/sqs.config.example.ts shows the real defaults, with and without --embedded", async () => {
    const ws = new Workspace();
    try {
      const minimal = ws.writeConfig({ receivers: ["./receivers/*.ts"] });
      // Without --embedded the embedded block is dropped on both sides, so compare with it too.
      for (const embedded of [false, true]) {
        const options = { cwd: repoRoot, env: {}, isTTY: false, embedded };
        const example = await loadConfig({ ...options, configPath: "config/sqs.config.example.ts" });
        const defaults = await loadConfig({ ...options, configPath: minimal });
        assert.deepEqual(
          { ...example, configPath: undefined, receivers: undefined },
          { ...defaults, configPath: undefined, receivers: undefined },
          `embedded: ${embedded}`,
        );
        if (embedded) assert.deepEqual(example.embedded, { host: "127.0.0.1", port: 4566 });
      }
    } finally {
      ws.remove();
    }
  });

  it("loads a TypeScript config's default export, typed with defineConfig", async () => {
    const ws = new Workspace();
    try {
      const path = ws.writeConfig(
        'const prefix: string = "typed";\nexport default { receivers: ["./r/*.ts"], queuePrefix: prefix };\n',
        "sqs.config.ts",
      );
      const config = await loadConfig({ cwd: ws.dir, env: {} });
      assert.equal(config.configPath, path);
      assert.equal(config.queuePrefix, "typed");
      assert.deepEqual(config.receivers, [`${ws.dir}/r/*.ts`]);
    } finally {
      ws.remove();
    }
  });
});
