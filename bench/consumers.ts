/**
 * The consumers under test, each in a process of its own: sqsd spawned as users run it, and the peers in
 * bench/peers/.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { BENCH_CREDENTIALS, here } from "./lib.js";

/** A consumer under test, running in a process of its own. */
export interface Consumer {
  readonly pid: number;
  /** The daemon's HTTP endpoint, when its config turned it on. */
  readonly httpUrl: string | undefined;
  /** Ends the process: SIGTERM, then (a drain may wait on long polls) a second SIGTERM, then SIGKILL. */
  stop(): Promise<void>;
}

/** How to run sqsd for a scenario. */
export interface SqsdRun {
  /** Queues to consume; the bench receivers (bench/receivers/bench.ts) register one receiver each. */
  readonly queues: readonly string[];
  /** The handlers' work (bench/receivers/work.ts). */
  readonly work: string;
  readonly eventsFile?: string;
  /** Config fields besides `endpoint`, `receivers` and `log`: `pool`, `defaults`, `http`. */
  readonly config?: Record<string, unknown>;
  /** Receiver modules to load instead of the bench receivers (which then register nothing). */
  readonly receivers?: readonly string[];
}

/** Starts `sqsd --config <file>` as a user would, and resolves once it logs "sqsd started". */
export async function startSqsd(endpoint: string, run: SqsdRun): Promise<Consumer> {
  const dir = mkdtempSync(join(tmpdir(), "sqsd-bench-"));
  const configPath = join(dir, "sqs.config.json");
  writeFileSync(
    configPath,
    JSON.stringify({
      endpoint,
      receivers: run.receivers ?? [here("./receivers/bench.ts")],
      ...run.config,
      // info: start-up and shutdown only; per-message records are debug.
      log: { level: "info", format: "json" },
    }),
  );
  const child = spawn(process.execPath, [here("../bin/sqsd.js"), "--config", configPath], {
    env: benchEnv(run.queues.join(","), run.work, run.eventsFile),
    stdio: ["ignore", "pipe", "inherit"],
  });
  let httpUrl: string | undefined;
  try {
    await readyLine(child, (line) => {
      httpUrl ??= line.includes('"http endpoint listening"') ? /"url":"([^"]+)"/.exec(line)?.[1] : undefined;
      return line.includes('"sqsd started"');
    });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    pid: child.pid!,
    httpUrl,
    stop: async () => {
      await stopProcess(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** What a peer consumer (bench/peers/*.ts) is told, as JSON in its first argument. */
export interface PeerRun {
  readonly endpoint: string;
  readonly queueUrls: readonly string[];
  readonly work: string;
  readonly eventsFile?: string;
  /** sqs-consumer: `message` for handleMessage, `batch` for handleMessageBatch. Raw loop: ignored. */
  readonly mode?: "message" | "batch";
  /** Raw loop: concurrent receive loops. */
  readonly loops?: number;
}

/**
 * Starts a peer consumer script from bench/peers/ and resolves once it prints "ready". A `.mjs` peer is plain
 * JavaScript and runs without tsx, as its users run it.
 */
export async function startPeer(
  script: "raw-loop" | "sqs-consumer" | "sqs-consumer-start.mjs",
  run: PeerRun,
): Promise<Consumer> {
  const entry = script.endsWith(".mjs")
    ? [here(`./peers/${script}`)]
    : ["--import", "tsx", here(`./peers/${script}.ts`)];
  const child = spawn(process.execPath, [...entry, JSON.stringify(run)], {
    env: benchEnv("", run.work, run.eventsFile),
    stdio: ["ignore", "pipe", "inherit"],
  });
  await readyLine(child, (line) => line === "ready");
  return { pid: child.pid!, httpUrl: undefined, stop: () => stopProcess(child) };
}

function benchEnv(queues: string, work: string, eventsFile: string | undefined): NodeJS.ProcessEnv {
  return {
    ...process.env,
    AWS_ACCESS_KEY_ID: BENCH_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: BENCH_CREDENTIALS.secretAccessKey,
    BENCH_QUEUES: queues,
    BENCH_WORK: work,
    ...(eventsFile === undefined ? {} : { BENCH_EVENTS: eventsFile }),
  };
}

/**
 * Resolves at the first stdout line `isReady` accepts; rejects if the process exits first. Keeps reading
 * stdout for the life of the process (a full pipe would block it) and passes on error-level log lines.
 */
function readyLine(child: ChildProcess, isReady: (line: string) => boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const last: string[] = [];
    createInterface({ input: child.stdout! }).on("line", (line) => {
      if (line.includes('"level":"error"')) console.error(`  [pid ${child.pid}] ${line}`);
      last.push(line);
      if (last.length > 5) last.shift();
      if (isReady(line)) resolve();
    });
    child.once("exit", (code) =>
      reject(new Error(`consumer exited with ${code} before it was ready:\n${last.join("\n")}`)),
    );
  });
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  const again = setTimeout(() => child.kill("SIGTERM"), 500);
  const kill = setTimeout(() => child.kill("SIGKILL"), 3_000);
  await exited;
  clearTimeout(again);
  clearTimeout(kill);
}
