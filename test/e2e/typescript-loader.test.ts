import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { nativeTypeScript } from "../../src/loader.js";
import { fixture } from "../helpers/paths.js";
import { Scenario } from "../helpers/scenario.js";

/**
 * Users' TypeScript (config and receivers) through the CLI: Node's own type stripping where it loads the
 * files, tsx where Node refuses them, and the start-up log naming the loader the daemon and its threads used.
 */
describe("TypeScript loading", () => {
  let scenario: Scenario;
  afterEach(() => scenario.dispose());

  /** Runs a TypeScript config for `receiver` until two messages of `queue` were handled; returns the run. */
  const consumeTwo = async (receiver: string, queue: string) => {
    scenario = await Scenario.start();
    const url = await scenario.sqs.createQueue(queue);
    await scenario.sqs.sendMany(url, ["1", "2"]);
    // Erasable TypeScript: a type annotation, nothing Node's stripping refuses.
    const config = scenario.ws.writeFile(
      "sqs.config.ts",
      [
        "interface Config { readonly [key: string]: unknown }",
        `const config: Config = {`,
        `  endpoint: ${JSON.stringify(scenario.sqs.endpoint)},`,
        `  receivers: [${JSON.stringify(fixture("receivers", `${receiver}.ts`))}],`,
        `  createQueues: true,`,
        `  defaults: { waitTimeSeconds: 1 },`,
        `  pool: { threads: 2 },`,
        `  log: { level: "info", format: "json" },`,
        `};`,
        `export default config;`,
      ].join("\n"),
    );
    const result = await scenario.run(["--config", config, "--message-limit", "2"]);
    assert.equal(result.code, 0, result.stderr);
    const events = scenario.ws.events().filter((event) => event.queue === queue);
    assert.equal(events.length, 2);
    for (const event of events) assert.equal(event.isMainThread, false, "a handler ran on the main thread");
    const started = result.logs.find((log) => log.message === "sqsd started") as Record<string, unknown> | undefined;
    assert.ok(started, result.stdout);
    return started;
  };

  it(
    "loads erasable TypeScript with Node's own type stripping, and no tsx",
    { skip: nativeTypeScript() ? false : `Node ${process.version} does not strip types itself (22.18+ does)` },
    async () => {
      const started = await consumeTwo("erasable", "erasable");
      assert.equal(started["typescriptLoader"], "native");
    },
  );

  it("falls back to tsx for an enum and a .js specifier, in the supervisor and its threads", async () => {
    const started = await consumeTwo("needs-tsx", "needs-tsx");
    assert.equal(started["typescriptLoader"], "tsx");
  });
});
