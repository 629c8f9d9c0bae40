import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, symlinkSync } from "node:fs";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { repoRoot } from "../helpers/paths.js";
import { Workspace } from "../helpers/workspace.js";

/**
 * fauxqs is an optional peer dependency: a production install (`npm ci --omit=dev`, the image) leaves it out.
 * These tests lay out such an install in a temporary project, the way npm would: sqsd's published files copied
 * to node_modules/sqsd, and every other installed package linked beside it, except fauxqs. (Copied, not
 * linked: Node resolves a linked package from its real path, which would find the repository's fauxqs.)
 */
describe("an install without fauxqs", () => {
  let ws: Workspace;
  let bin: string;
  before(() => {
    ws = new Workspace();
    const modules = join(ws.dir, "node_modules");
    const sqsd = join(modules, "sqsd");
    mkdirSync(sqsd, { recursive: true });
    for (const path of ["package.json", "bin", "config", "dist/src", "dist/workers"]) {
      cpSync(join(repoRoot, path), join(sqsd, path), { recursive: true });
    }
    for (const name of readdirSync(join(repoRoot, "node_modules"))) {
      if (name === "fauxqs" || name.startsWith(".")) continue;
      symlinkSync(join(repoRoot, "node_modules", name), join(modules, name));
    }
    // The temporary folder's parents must not hold a fauxqs of their own, or this install would find it.
    for (let dir = ws.dir; dir !== dirname(dir); dir = dirname(dir)) {
      assert.ok(!existsSync(join(dir, "node_modules", "fauxqs")), `${dir}/node_modules has fauxqs`);
    }
    bin = join(sqsd, "bin", "sqsd.js");
    // A TypeScript config that imports "sqsd": the TypeScript loader works without fauxqs.
    ws.writeConfig(
      `import { defineConfig } from "sqsd";\nexport default defineConfig({ endpoint: "embedded", embedded: { port: 0 }, receivers: ["./receivers.ts"] });\n`,
      "embedded.config.ts",
    );
    ws.writeConfig({ receivers: ["./receivers.ts"] }, "remote.config.json");
    ws.writeFile("receivers.ts", `import { receiver } from "sqsd";\nreceiver("hello", async () => {});\n`);
  });
  after(() => ws.remove());

  /** Runs the installed CLI; resolves with its exit code and output. */
  function run(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const child = spawn(process.execPath, [bin, ...args], { cwd: ws.dir, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    return new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
  }

  /** The failure is one line naming the package and how to install it, exit 2, no stack trace. */
  function assertMissingFauxqs(result: { code: number | null; stdout: string; stderr: string }): void {
    assert.equal(result.code, 2, `stdout: ${result.stdout}\nstderr: ${result.stderr}`);
    const lines = result.stderr.split("\n").filter((line) => line !== "");
    assert.equal(lines.length, 1, `stderr: ${result.stderr}`);
    assert.match(
      lines[0] ?? "",
      /^sqsd: the embedded SQS server \(--embedded, endpoint: "embedded"\) needs the package fauxqs@\^1\.9\.2, which is not installed: run `npm install --save-dev "fauxqs@\^1\.9\.2"`/,
    );
  }

  it('endpoint: "embedded" in the config exits 2 with one line naming fauxqs', async () => {
    assertMissingFauxqs(await run(["--config", "embedded.config.ts"]));
  });

  it("--embedded exits 2 with one line naming fauxqs", async () => {
    assertMissingFauxqs(await run(["--config", "remote.config.json", "--embedded"]));
  });

  it("the CLI itself loads: fauxqs is imported only when the embedded server starts", async () => {
    const result = await run(["--version"]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^\d+\.\d+\.\d+/);
  });
});
