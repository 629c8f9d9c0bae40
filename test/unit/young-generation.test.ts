import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import { semiSpaceFlagSet } from "../../src/process/young-generation.js";
import { startWithYoungGenerationCap } from "../../src/cli/young-generation-start.js";

/** What a start did, the largest new spaces seen, and which of the start's environment variables remain. */
interface Started {
  readonly did: string;
  readonly main: number;
  readonly worker: number;
  readonly env: readonly string[];
}

const START = new URL("../../src/cli/young-generation-start.js", import.meta.url).href;

/**
 * Runs, in a process of its own (V8's flags are the process's), a start as bin/sqsd.js makes it with `argv`,
 * then allocates in the main thread and in a worker thread objects of which some survive a few scavenges (what
 * makes V8 grow a new space), and returns what the start did and the largest new space each thread saw, in MiB.
 */
function start(argv: readonly string[], withExecve = true): Started {
  const script = `
    import { Worker } from "node:worker_threads";
    const { startWithYoungGenerationCap } = await import(${JSON.stringify(START)});
    const did = startWithYoungGenerationCap({
      argv: ${JSON.stringify(argv)},
      env: process.env,
      execve: ${withExecve ? "process.execve?.bind(process)" : "undefined"},
    });
    const churn = \`(async () => {
      const { getHeapSpaceStatistics } = process.getBuiltinModule("node:v8");
      const newSpace = () => getHeapSpaceStatistics().find((space) => space.space_name === "new_space").space_size;
      const kept = [];
      let largest = 0;
      for (let round = 0; round < 1500; round += 1) {
        for (let i = 0; i < 1000; i += 1) {
          kept.push({ round, i, text: "x" + i });
          if (kept.length > 200000) kept.splice(0, 100000);
        }
        await new Promise((resolve) => setImmediate(resolve));
        largest = Math.max(largest, newSpace());
      }
      return largest / 1024 / 1024;
    })()\`;
    const main = await eval(churn);
    const worker = new Worker(
      \`const { parentPort } = process.getBuiltinModule("node:worker_threads");
       \${churn}.then((mib) => parentPort.postMessage(mib));\`,
      { eval: true },
    );
    const mib = await new Promise((resolve) => worker.once("message", resolve));
    await worker.terminate();
    console.log(JSON.stringify({ did, main, worker: mib, env: Object.keys(process.env).filter((key) => /MALLOC_ARENA_MAX|SQSD_YOUNG/.test(key)) }));
  `;
  const child = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
  assert.equal(child.status, 0, child.stderr);
  return JSON.parse(child.stdout.trim().split("\n").at(-1)!) as Started;
}

describe("startWithYoungGenerationCap", { skip: typeof process.execve !== "function" && "no process.execve" }, () => {
  it("caps a daemon's own young generation and leaves the pool threads' to V8", () => {
    const { did, main, worker, env } = start(["run", "--config", "sqs.config.json"]);
    assert.equal(did, "reexecuted");
    // MALLOC_ARENA_MAX was the re-executed process's, read by glibc at its start: a handler's child gets none.
    assert.deepEqual(env, []);
    // Two semi-spaces of 8 MiB; V8 alone grows it to 64 MiB or more under these allocations.
    assert.ok(main <= 16, `the supervisor's new space grew to ${main} MiB`);
    // Under the process-wide toggle this fallback replaces, a thread could not grow past the size it had.
    assert.ok(worker >= 32, `a worker thread's new space stayed at ${worker} MiB`);
  });

  it("leaves other commands, and a Node without execve, as they are", () => {
    for (const [argv, withExecve, expected] of [
      [["status"], true, "not a daemon"],
      [["run"], false, "no execve"],
    ] as const) {
      const { did, main } = start(argv, withExecve);
      assert.equal(did, expected);
      assert.ok(main >= 32, `${argv.join(" ")}: the new space stayed at ${main} MiB`);
    }
  });
});

describe("startWithYoungGenerationCap when exec is refused", () => {
  it("starts as it is, as without execve, when execve throws (a sandbox that forbids exec)", () => {
    const refused = (): never => {
      throw Object.assign(new Error("EACCES: permission denied, execve"), { code: "EACCES" });
    };
    assert.equal(startWithYoungGenerationCap({ argv: ["run"], env: {}, execve: refused }), "execve failed");
  });
});

describe("semiSpaceFlagSet", () => {
  it("finds the flag in Node's command line or NODE_OPTIONS, written with dashes or underscores", () => {
    assert.equal(semiSpaceFlagSet(["--max-semi-space-size=8"], ""), true);
    assert.equal(semiSpaceFlagSet([], "--inspect --max_semi_space_size=4"), true);
    assert.equal(semiSpaceFlagSet(["--max-old-space-size=512"], "--enable-source-maps"), false);
  });
});
