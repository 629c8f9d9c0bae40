import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createConnection, createServer } from "node:net";

/**
 * A `redis-server` on a free loopback port, with no persistence, for tests of what sqsd keeps in Redis. Where
 * it is missing the tests skip with the reason, unless `SQSD_REQUIRE_REDIS=1` (or `CI`), where that fails.
 */
export class RedisServer {
  readonly url: string;
  readonly #child: ChildProcess;

  private constructor(child: ChildProcess, url: string) {
    this.#child = child;
    this.url = url;
  }

  /** Why redis-server cannot run here, or undefined when it can. */
  static unavailable(): string | undefined {
    const probe = spawnSync("redis-server", ["--version"], { encoding: "utf8" });
    if (probe.status === 0) return undefined;
    const reason = "redis-server is not installed (apt-get install redis-server)";
    if (process.env["SQSD_REQUIRE_REDIS"] === "1" || process.env["CI"]) throw new Error(reason);
    return reason;
  }

  /** Starts redis-server; resolves once it accepts connections. */
  static async start(): Promise<RedisServer> {
    const port = await freePort();
    const child = spawn(
      "redis-server",
      ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
      { stdio: "ignore" },
    );
    const deadline = Date.now() + 30_000;
    while (!(await accepts(port))) {
      if (child.exitCode !== null) throw new Error(`redis-server exited with ${String(child.exitCode)}`);
      if (Date.now() > deadline) {
        child.kill("SIGKILL");
        throw new Error("redis-server did not listen within 30 s");
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return new RedisServer(child, `redis://127.0.0.1:${port}`);
  }

  /** Stops the server (by its pid) and waits for it to exit. */
  async stop(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.#child.once("exit", resolve));
    this.#child.kill("SIGKILL");
    await exited;
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: "127.0.0.1" });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}
