import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import type { Server, Socket } from "node:net";
import { createRequire } from "node:module";
import { freePort } from "./free-port.js";

/**
 * The idempotency stores' real servers for tests, each on a free loopback port: Debian's redis-server, and
 * dynalite (an implementation of DynamoDB's API, in process). A test skips with the reason when one cannot
 * run here, unless `SQSD_REQUIRE_STORES=1` (CI), where that is a failure.
 */

const REDIS_PATHS = ["/usr/bin/redis-server", "/usr/local/bin/redis-server", "/usr/bin/valkey-server"];

/** Why a store server cannot run here, or undefined; throws under `SQSD_REQUIRE_STORES=1`. */
function unavailable(reason: string | undefined): string | undefined {
  if (reason === undefined) return undefined;
  if (process.env["SQSD_REQUIRE_STORES"] === "1") throw new Error(`${reason}, and SQSD_REQUIRE_STORES=1`);
  return reason;
}

/** A redis-server of this test, with no persistence, killed by its pid. */
export class RedisServer {
  readonly url: string;
  readonly #child: ChildProcess;

  private constructor(child: ChildProcess, url: string) {
    this.#child = child;
    this.url = url;
  }

  static binary(): string | undefined {
    return REDIS_PATHS.find((path) => existsSync(path));
  }

  /** Why redis-server cannot run here, or undefined when it can. */
  static unavailable(): string | undefined {
    return unavailable(RedisServer.binary() ? undefined : `no redis-server (looked in ${REDIS_PATHS.join(", ")})`);
  }

  /**
   * Starts redis-server on a free loopback port; resolves once it says it is ready. Its own "ready" line, not a
   * connection that succeeds: between `freePort()` and the bind another test's server may take the port, and a
   * probe would then reach that one. A server that could not bind exits, and the start tries another port.
   */
  static async start(): Promise<RedisServer> {
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const child = spawn(
        RedisServer.binary()!,
        ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        { stdio: ["ignore", "pipe", "ignore"] },
      );
      // The test process must be free to exit with the server running; its exit then takes the server down.
      child.unref();
      process.once("exit", () => child.kill("SIGKILL"));
      if (await ready(child)) return new RedisServer(child, `redis://127.0.0.1:${port}`);
      if (attempt === 5) throw new Error(`redis-server did not start on a free port in ${attempt} attempts`);
    }
  }

  /** Kills the server and waits for it to exit. */
  async stop(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.#child.once("exit", resolve));
    this.#child.kill("SIGKILL");
    await exited;
  }
}

/** dynalite in this process on a free loopback port, tables created at once. */
export class Dynalite {
  readonly endpoint: string;
  readonly #server: Server;

  private constructor(server: Server, endpoint: string) {
    this.#server = server;
    this.endpoint = endpoint;
  }

  /** Why dynalite cannot run here, or undefined when it can. */
  static unavailable(): string | undefined {
    try {
      createRequire(import.meta.url).resolve("dynalite");
      return unavailable(undefined);
    } catch {
      return unavailable("the dynalite package is not installed");
    }
  }

  static async start(): Promise<Dynalite> {
    const dynalite = createRequire(import.meta.url)("dynalite") as (options: { createTableMs: number }) => Server;
    const server = dynalite({ createTableMs: 0 });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", resolve);
    });
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("dynalite has no port");
    server.unref();
    return new Dynalite(server, `http://127.0.0.1:${address.port}`);
  }

  async stop(): Promise<void> {
    await new Promise((resolve) => this.#server.close(resolve));
  }
}

/** Whether redis-server said it is ready to accept connections (false: it exited first); 30 s at most. */
function ready(child: ChildProcess): Promise<boolean> {
  const stdout = child.stdout as Socket;
  return new Promise((resolve, reject) => {
    let seen = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error("redis-server was not ready within 30 s"));
    }, 30_000);
    const done = (isReady: boolean) => {
      clearTimeout(timer);
      stdout.off("data", onData);
      child.off("exit", onExit);
      // Keep reading what it writes later, without holding the test process open.
      stdout.resume();
      stdout.unref();
      resolve(isReady);
    };
    const onData = (chunk: Buffer) => {
      seen = (seen + chunk.toString("utf8")).slice(-512);
      if (seen.includes("Ready to accept connections")) done(true);
    };
    const onExit = () => done(false);
    stdout.on("data", onData);
    child.once("exit", onExit);
  });
}
