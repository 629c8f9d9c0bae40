import { after, afterEach, before, beforeEach } from "node:test";
import { HandlerPool } from "../../src/pool/pool.js";
import type { HandlerPoolOptions } from "../../src/pool/pool-options.js";
import { TestSqs } from "./local-sqs.js";
import { memoryLogger } from "./memory-logger.js";
import { Workspace } from "./workspace.js";

/** What one test of a pool suite works with; fresh for every test. */
export interface PoolSuite {
  /** The suite's fauxqs, for queues a handler sends to. */
  readonly sqs: TestSqs;
  /** This test's workspace: fixture handlers record their events to its file. */
  readonly ws: Workspace;
  /** This test's log. */
  readonly log: ReturnType<typeof memoryLogger>;
  /** A pool on the suite's server with this test's logger, closed after the test. */
  open(options: Omit<HandlerPoolOptions, "sqs" | "logger">): HandlerPool;
}

/**
 * Registers the set-up every suite of real pool threads shares, in the `describe` it is called from: one fauxqs
 * for the suite, a workspace and a log per test, and the test's pools closed after it. `beforeClose` runs first
 * after each test (e.g. to open gates a thread still loading waits on, which would hold the close).
 */
export function poolSuite(beforeClose?: (ws: Workspace) => void): PoolSuite {
  let sqs: TestSqs | undefined;
  let ws: Workspace | undefined;
  let log: ReturnType<typeof memoryLogger> | undefined;
  const opened: HandlerPool[] = [];
  before(async () => {
    sqs = await TestSqs.start();
  });
  after(async () => {
    await sqs?.stop();
  });
  beforeEach(() => {
    ws = new Workspace();
    // Threads take a copy of the environment when they start: fixture handlers record to this file.
    process.env["SQSD_TEST_EVENTS"] = ws.eventsFile;
    log = memoryLogger();
  });
  afterEach(async () => {
    if (ws) beforeClose?.(ws);
    for (const pool of opened.splice(0)) await pool.close();
    ws?.remove();
  });
  const present = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`${what} exists only inside a test of the pool suite`);
    return value;
  };
  return {
    get sqs() {
      return present(sqs, "the suite's server");
    },
    get ws() {
      return present(ws, "the workspace");
    },
    get log() {
      return present(log, "the log");
    },
    open(options) {
      const pool = new HandlerPool({
        ...options,
        sqs: present(sqs, "the suite's server").settings,
        logger: this.log.logger,
      });
      opened.push(pool);
      return pool;
    },
  };
}
