import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { describe, it } from "node:test";
import { eventually } from "../helpers/eventually.js";
import { repoRoot } from "../helpers/paths.js";

/** The README's first command works: the quick start runs on the embedded server and processes its messages. */
describe("examples/quickstart", () => {
  it("starts the daemon on the embedded server, processes the demo messages, and drains on Ctrl-C", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", "examples/quickstart/start.ts"], {
      cwd: repoRoot,
      env: { ...process.env, AWS_ENDPOINT_URL_SQS: "" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const closed = new Promise<number | null>((resolve) => child.on("close", resolve));
    try {
      // Six demo messages, one of which is retried once after a RestartLater: seven runs.
      await eventually(() => stdout.match(/message processed/g)?.length === 6 && stdout.includes("charged order"), {
        timeoutMs: 60_000,
        message: () => `the demo messages were not all processed\nstdout:\n${stdout}\nstderr:\n${stderr}`,
      });
      child.kill("SIGINT");
      assert.equal(await closed, 0, `stdout:\n${stdout}\nstderr:\n${stderr}`);
    } finally {
      child.kill("SIGKILL");
    }
    assert.match(stdout, /embedded SQS server listening {2}endpoint=http:\/\/127\.0\.0\.1:\d+/);
    assert.match(stdout, /message left for later \(RestartLater\)/);
    assert.match(stdout, /hello, Ada/);
    assert.match(stdout, /thumbnail for image 3 \(thumbnails__big\)/);
    assert.match(stdout, /charged order A-1001 on attempt 2/);
    assert.match(stdout, /draining {2}reason="SIGINT received"/);
    assert.match(stdout, /stopped .*exitCode=0 processed=7/);
  });
});
