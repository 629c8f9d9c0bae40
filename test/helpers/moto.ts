import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { accessSync, constants, existsSync, realpathSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { freePort } from "./free-port.js";

/**
 * moto's standalone server (`moto_server`, moto 5.2), a second SQS implementation beside fauxqs: what the two
 * agree on is SQS's behaviour, not one emulator's. Started on a free loopback port, stopped by its pid.
 */
export class MotoServer {
  readonly endpoint: string;
  readonly #child: ChildProcess;

  private constructor(child: ChildProcess, endpoint: string) {
    this.#child = child;
    this.endpoint = endpoint;
  }

  /**
   * Why moto cannot run here, or undefined when it can: the tests that need it skip with this reason, unless
   * `SQSD_REQUIRE_MOTO=1` (CI), where a missing `moto_server` is a failure. Asked once per process, and the
   * answer for one `moto_server` file is kept for the run (see {@link probeMoto}).
   */
  static unavailable(): string | undefined {
    probed ??= probeMoto();
    if (probed === "ok") return undefined;
    if (process.env["SQSD_REQUIRE_MOTO"] === "1") throw new Error(`${probed}, and SQSD_REQUIRE_MOTO=1`);
    return probed;
  }

  /** Starts moto on a free loopback port; resolves once it answers HTTP. */
  static async start(): Promise<MotoServer> {
    const port = await freePort();
    const child = spawn("moto_server", ["-H", "127.0.0.1", "-p", String(port)], { stdio: "ignore" });
    const endpoint = `http://127.0.0.1:${port}`;
    const exited = new Promise<never>((_, reject) =>
      child.once("exit", (code) => reject(new Error(`moto_server exited with ${String(code)} before it listened`))),
    );
    exited.catch(() => {});
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        // moto's own reset endpoint: cheap, and answers only once the app is up.
        const response = await Promise.race([fetch(`${endpoint}/moto-api/`), exited]);
        if (response.status < 500) break;
      } catch (error) {
        if (child.exitCode !== null) throw error;
        if (Date.now() > deadline) {
          child.kill("SIGKILL");
          throw new Error("moto_server did not answer within 60 s", { cause: error });
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    return new MotoServer(child, endpoint);
  }

  /**
   * The one moto of this test process, started on first use and killed when the process exits: moto takes a
   * second or two to start and about 60 MB, so a test file shares one and tells its cases apart by
   * {@link MotoServer.reset} or by queue names.
   */
  static shared(): Promise<MotoServer> {
    sharedServer ??= MotoServer.start().then((server) => {
      // The test process must be free to exit with moto still running; its exit then takes moto down.
      server.#child.unref();
      process.once("exit", () => server.#child.kill("SIGKILL"));
      return server;
    });
    return sharedServer;
  }

  /** Forgets every queue and message (moto's own reset API), for a case that wants an empty server. */
  async reset(): Promise<void> {
    const response = await fetch(`${this.endpoint}/moto-api/reset`, { method: "POST" });
    if (!response.ok) throw new Error(`moto reset answered ${response.status}`);
  }

  async stop(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.#child.once("exit", resolve));
    this.#child.kill("SIGTERM");
    const timer = setTimeout(() => this.#child.kill("SIGKILL"), 5_000);
    await exited;
    clearTimeout(timer);
  }
}

let sharedServer: Promise<MotoServer> | undefined;

/** This process's answer from {@link probeMoto}. */
let probed: string | undefined;

const INSTALL = "pip install 'moto[server]==5.2.*'";

/**
 * "ok" when `moto_server --help` succeeds, else why not. The probe imports moto, about a second of CPU, and
 * every test file is its own process: a success is remembered by an empty file in the temporary folder named
 * for the `moto_server` found on PATH (its real path, size and modification time), so a suite probes once and
 * a moto installed, upgraded or removed since is probed again. A failure is not remembered. Should a
 * remembered moto stop working (a pyenv shim whose version changed), {@link MotoServer.start} fails loudly.
 */
function probeMoto(): string {
  const found = onPath("moto_server");
  if (found === undefined) return `moto_server is not on PATH (${INSTALL})`;
  const stat = statSync(found);
  const key = createHash("sha256").update(`${found}\0${stat.size}\0${stat.mtimeMs}`).digest("hex").slice(0, 16);
  const marker = join(tmpdir(), `sqsd-moto-ok-${key}`);
  if (existsSync(marker)) return "ok";
  const probe = spawnSync(found, ["--help"], { stdio: "ignore" });
  if (probe.error !== undefined || probe.status !== 0) return `\`${found} --help\` failed (${INSTALL})`;
  try {
    writeFileSync(marker, "");
  } catch {
    // Only a cache: the next test file probes again.
  }
  return "ok";
}

/** The real path of the executable `name` that a shell would run, or undefined. */
function onPath(name: string): string | undefined {
  for (const dir of (process.env["PATH"] ?? "").split(delimiter)) {
    if (dir === "") continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return realpathSync(candidate);
    } catch {
      // Not here: the next directory.
    }
  }
  return undefined;
}

/**
 * Where moto is known to differ from SQS in a way a test cannot work around, as the reason a case skips on moto
 * (docs/reliability.md, "fauxqs, moto and SQS", lists them with what SQS does and the evidence).
 */
export const MOTO_DEFECTS = {
  /**
   * moto serves each request on a thread of its own and takes no lock in ReceiveMessage: it tests that a message
   * is visible and then marks it received, two steps apart (moto 5.2.1, `SQSBackend.receive_message` in
   * moto/sqs/models.py). Two receives on one queue that overlap can both take a message, each with its own
   * receipt handle (its receive count goes up twice), and on a FIFO queue split a group between them out of
   * order. A thread switch between the two steps is all it takes: rare on a quiet machine, common under load.
   * SQS hands a message to no second receive within its visibility timeout. A case that counts deliveries runs
   * on moto with one receive lane per queue ({@link ONE_RECEIVE_LANE}) instead of skipping.
   */
  concurrentReceives:
    "moto's ReceiveMessage is not atomic: two receives on one queue at once can both take one message (SQS does not)",
  /**
   * moto's DeleteMessage rebuilds the queue's list of messages and stores it back, without a lock
   * (`Queue.delete_message`): of two delete batches on one queue that overlap, the later store can put back a
   * message the other removed, though both answered Successful. The message stays in flight and comes back after
   * its visibility timeout. sqsd sends a queue's deletes in batches that may overlap; no case skips for this
   * yet (none was seen to fail from it), but a count that is one too high on moto under load may be this.
   */
  concurrentDeletes:
    "moto's DeleteMessage is not atomic: of two deletes on one queue at once, one can be undone (SQS does not)",
  /**
   * moto's SendMessage on a FIFO queue looks for the deduplication id among the messages still in the queue, and
   * then appends, with no lock between (`Queue.add_message`): two sends at once with one id can both be kept
   * (three replicas offering each cron tick within milliseconds doubled 2 ticks of 17). It also forgets an id
   * once its message is deleted. SQS drops a message whose id it accepted in the last 5 minutes, deleted or
   * not, which is what cron schedules across replicas rely on.
   */
  fifoDeduplication:
    "moto's FIFO deduplication is not atomic and forgets deleted messages: two sends at once with one id are both kept (SQS keeps one)",
  /**
   * moto answers each long poll from a thread that re-scans the queue every second; with a thousand of them
   * waiting its answers to deletes fall seconds behind, past the tests' 2 s visibility timeout.
   */
  thousandLongPolls: "moto falls seconds behind with 1,000 long polls waiting, past a 2 s visibility timeout",
} as const;

/**
 * Pool settings that give each queue one receive lane, so no two receives on one queue overlap: for a case that
 * counts deliveries on moto ({@link MOTO_DEFECTS}.concurrentReceives). A prefetch of 10 or less leaves room for
 * one full receive (`maxLanes` in src/supervisor/supervisor.ts). On fauxqs such a case keeps its lanes.
 */
export const ONE_RECEIVE_LANE = { prefetch: 10 } as const;
