import assert from "node:assert/strict";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, before, describe, it } from "node:test";
import { runSqsd } from "../helpers/daemon.js";
import { Scenario } from "../helpers/scenario.js";

/** Node's compile cache as bin/sqsd.js sets it up: its directory under TMPDIR, used by the daemon and its threads. */
// A cache directory set for the whole test run would stand in for the one bin/sqsd.js picks.
const skip = process.env["NODE_COMPILE_CACHE"] ? "NODE_COMPILE_CACHE is set for this run" : false;

describe("compile cache", { skip }, () => {
  let scenario: Scenario | undefined;
  let temp: string;
  const uid = process.getuid?.() ?? 0;
  before(() => {
    temp = mkdtempSync(join(tmpdir(), "sqsd-compile-cache-test-"));
  });
  after(() => rmSync(temp, { recursive: true, force: true }));
  afterEach(async () => {
    await scenario?.dispose();
    scenario = undefined;
  });

  /** Consumes one message with a TypeScript receiver, TMPDIR set to `tmp`; returns the run's stderr. */
  const consumeOne = async (tmp: string, env: Record<string, string> = {}): Promise<string> => {
    const s = (scenario ??= await Scenario.start());
    const handled = () => s.ws.events().filter((event) => event.queue === "erasable").length;
    const before = handled();
    await s.sqs.sendMany(await s.sqs.createQueue("erasable"), ["1"]);
    const config = s.writeConfig(["erasable"], { pool: { threads: 1 } });
    const result = await runSqsd(["--config", config, "--message-limit", "1"], {
      env: { ...s.env, ...env, TMPDIR: tmp },
      cwd: s.ws.dir,
    });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(handled(), before + 1);
    return result.stderr;
  };

  it("is kept under TMPDIR, and a second start reads it in the daemon and in its pool thread", async () => {
    const tmp = join(temp, "own");
    mkdirSync(tmp);
    await consumeOne(tmp);
    const cache = join(tmp, `sqsd-compile-cache-${uid}`);
    assert.ok(readdirSync(cache).length > 0, "nothing was written to the cache");
    // Node's own trace of its compile cache names each module whose cached code it accepted.
    const stderr = await consumeOne(tmp, { NODE_DEBUG_NATIVE: "COMPILE_CACHE" });
    const accepted = (file: string) =>
      new RegExp(`code cache for ESM \\S*/${file.replaceAll(".", "\\.")} was accepted`).test(stderr);
    assert.ok(accepted("dist/src/commands/run.js"), "the supervisor did not read the cache");
    // A module only a pool thread loads: the thread inherited NODE_COMPILE_CACHE from bin/sqsd.js.
    assert.ok(accepted("dist/workers/task-runner.js"), "the pool thread did not read the cache");
    assert.ok(accepted("test/fixtures/receivers/erasable.ts"), "the receiver's stripped code was not read");
  });

  it("is not used when others can write to its directory", async () => {
    const tmp = join(temp, "shared");
    const cache = join(tmp, `sqsd-compile-cache-${uid}`);
    mkdirSync(cache, { recursive: true });
    chmodSync(cache, 0o777);
    await consumeOne(tmp);
    assert.deepEqual(readdirSync(cache), [], "code was cached in a directory others can write to");
  });
});
