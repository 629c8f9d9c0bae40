/** What the bench scripts share: the SQS server in its own process, and sqsd spawned as users run it. */
import { fork, spawn, type ChildProcessByStdio } from "node:child_process";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";

/** Credentials for the local server, which accepts any. */
export const BENCH_CREDENTIALS = { accessKeyId: "bench", secretAccessKey: "bench" } as const;

/** Per-action request counts from the server process. */
export type Requests = Record<string, number>;

const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

/**
 * Starts the local SQS server (bench/sqs-server.ts) in a process of its own, so it shares an event loop with
 * neither consumer, and its memory is not counted as theirs.
 */
export async function startServerProcess(): Promise<{ endpoint: string; requests(): Promise<Requests>; stop(): void }> {
  const child = fork(here("./sqs-server.ts"), {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const endpoint = await new Promise<string>((resolve) =>
    child.once("message", (message) => resolve((message as { endpoint: string }).endpoint)),
  );
  const requests = (): Promise<Requests> =>
    new Promise((resolve) => {
      child.once("message", (message) => resolve((message as { requests: Requests }).requests));
      child.send("requests");
    });
  return { endpoint, requests, stop: () => child.send("stop") };
}

/** Spawns `sqsd --config <configPath> ...args` with the bench credentials; stdout is piped for the caller. */
export function spawnSqsd(configPath: string, args: readonly string[] = []): ChildProcessByStdio<null, Readable, null> {
  return spawn(process.execPath, [here("../bin/sqsd.js"), "--config", configPath, ...args], {
    env: {
      ...process.env,
      AWS_ACCESS_KEY_ID: BENCH_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: BENCH_CREDENTIALS.secretAccessKey,
      // The AWS SDK's Node 20 end-of-support notice would interleave with the results.
      NODE_NO_WARNINGS: "1",
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
}
