import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** One line a fixture handler wrote (see test/fixtures/record.ts). */
export interface HandlerEvent {
  readonly queue: string;
  readonly fullName: string;
  readonly suffix?: string;
  readonly id: string;
  readonly body: unknown;
  readonly receiveCount: number;
  /** SQS system attributes of the delivery (`SentTimestamp`, `ApproximateFirstReceiveTimestamp`, ...). */
  readonly attributes?: Readonly<Record<string, string>>;
  readonly pid: number;
  readonly threadId: number;
  readonly isMainThread: boolean;
  readonly event: string;
  readonly at: number;
  readonly [key: string]: unknown;
}

/**
 * A temporary folder for one test: its config file and the events file that fixture handlers append to.
 */
export class Workspace {
  readonly dir = mkdtempSync(join(tmpdir(), "sqsd-test-"));
  readonly eventsFile = join(this.dir, "events.jsonl");

  /** Writes `sqs.config.json` (or another name) and returns its path. */
  writeConfig(config: unknown, name = "sqs.config.json"): string {
    const path = join(this.dir, name);
    writeFileSync(path, typeof config === "string" ? config : JSON.stringify(config, null, 2));
    return path;
  }

  /** Writes any file into the workspace and returns its path. */
  writeFile(name: string, text: string): string {
    const path = join(this.dir, name);
    writeFileSync(path, text);
    return path;
  }

  /** Environment that points fixture handlers at this workspace's events file. */
  get env(): Record<string, string> {
    return { SQSD_TEST_EVENTS: this.eventsFile };
  }

  /** Lets handlers waiting on the gate `name` (see test/fixtures/record.ts) go on. */
  openGate(name: string): void {
    writeFileSync(`${this.eventsFile}.${name}.open`, "");
  }

  /** Every event recorded so far. */
  events(): HandlerEvent[] {
    if (!existsSync(this.eventsFile)) return [];
    return readFileSync(this.eventsFile, "utf8")
      .split("\n")
      .filter((line) => line !== "")
      .map((line) => JSON.parse(line) as HandlerEvent);
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
