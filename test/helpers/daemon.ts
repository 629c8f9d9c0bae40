import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { eventually } from "./eventually.js";
import { sqsdBin } from "./paths.js";

/** One structured log record from the daemon's stdout (JSON format), with the fields sqsd writes. */
export interface LogRecord {
  readonly level: string;
  readonly message: string;
  readonly timestamp?: string;
  readonly queue?: string;
  readonly queues?: string[];
  readonly messageId?: string;
  readonly receiveCount?: number;
  readonly durationMs?: number;
  readonly outcome?: string;
  readonly phase?: string;
  readonly onError?: string;
  readonly error?: string;
  readonly stack?: string;
  readonly reason?: string;
  readonly delaySeconds?: number;
  readonly endpoint?: string;
  readonly exitCode?: number;
  readonly processed?: number;
  readonly interrupted?: number;
  readonly count?: number;
  readonly code?: string;
  readonly attempts?: number;
  readonly codec?: string;
  readonly url?: string;
  readonly starved?: boolean;
}

/** How a spawned command ended. */
export interface ExitStatus {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/**
 * The `sqsd` CLI spawned as a user runs it: `node bin/sqsd.js ...args`. Collects stdout log records (JSON
 * format) and stderr text, and lets a test wait for a record, send signals, and read the exit status.
 */
export class SqsdProcess {
  readonly child: ChildProcess;
  readonly logs: LogRecord[] = [];
  readonly stdoutLines: string[] = [];
  stderr = "";
  readonly exited: Promise<ExitStatus>;

  /** `input`, when given, is written to the process's stdin, which is then closed. */
  constructor(args: readonly string[], options: { cwd?: string; env?: Record<string, string>; input?: string } = {}) {
    this.child = spawn(process.execPath, [sqsdBin, ...args], {
      cwd: options.cwd,
      env: { ...process.env, NODE_ENV: "test", ...options.env },
      stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    if (options.input !== undefined) this.child.stdin!.end(options.input);
    // 'close' rather than 'exit': it comes after stdout and stderr have been read to the end.
    this.exited = new Promise((resolve) => this.child.on("close", (code, signal) => resolve({ code, signal })));
    createInterface({ input: this.child.stdout! }).on("line", (line) => {
      this.stdoutLines.push(line);
      try {
        this.logs.push(JSON.parse(line) as LogRecord);
      } catch {
        // Not a log record: a handler's own console output. It stays in stdoutLines.
      }
    });
    this.child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (this.stderr += chunk));
  }

  /**
   * Resolves with the first log record matching `predicate`, waiting up to `timeoutMs` (as long as
   * {@link SqsdProcess.started} by default: records such as "http endpoint listening" come at start-up, which
   * a loaded machine can make take more than 20 s).
   */
  waitForLog(predicate: (record: LogRecord) => boolean, timeoutMs = 30_000): Promise<LogRecord> {
    return eventually(() => this.logs.find(predicate), {
      timeoutMs,
      // Read when the wait fails, so it shows what the process said by then.
      message: () =>
        `no matching log record (exit code ${String(this.child.exitCode)}, stderr: ${this.stderr.slice(-500)})`,
    });
  }

  /** Resolves once the daemon logged "sqsd started". */
  started(timeoutMs = 30_000): Promise<LogRecord> {
    return this.waitForLog((record) => record.message === "sqsd started", timeoutMs);
  }

  /** Log records with this message. */
  logsWith(message: string): LogRecord[] {
    return this.logs.filter((record) => record.message === message);
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** Ensures the process is gone (for `after` hooks): SIGKILL if it has not exited. */
  async dispose(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGKILL");
    await this.exited;
  }
}

/** Runs `sqsd` to completion and returns its exit status, process id and output. */
export async function runSqsd(
  args: readonly string[],
  options: { cwd?: string; env?: Record<string, string>; timeoutMs?: number; input?: string } = {},
): Promise<ExitStatus & { pid: number | undefined; stdout: string; stderr: string; logs: LogRecord[] }> {
  const daemon = new SqsdProcess(args, options);
  const timer = setTimeout(() => daemon.kill("SIGKILL"), options.timeoutMs ?? 60_000);
  try {
    const status = await daemon.exited;
    const { pid } = daemon.child;
    return { ...status, pid, stdout: daemon.stdoutLines.join("\n"), stderr: daemon.stderr, logs: daemon.logs };
  } finally {
    clearTimeout(timer);
  }
}
