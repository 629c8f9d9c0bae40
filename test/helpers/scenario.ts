import { testConfig } from "./config.js";
import { runSqsd, SqsdProcess } from "./daemon.js";
import { TestSqs, type TestSqsOptions } from "./local-sqs.js";
import { Workspace } from "./workspace.js";

/**
 * One end-to-end scenario: its own SQS server and folder, and the sqsd processes it starts. `dispose()`
 * tears all of it down, whatever state the test left it in.
 */
export class Scenario {
  readonly sqs: TestSqs;
  readonly ws = new Workspace();
  readonly #daemons: SqsdProcess[] = [];

  private constructor(sqs: TestSqs) {
    this.sqs = sqs;
  }

  /** Starts a scenario on a fresh fauxqs, or on the file's moto (`{ server: "moto" }`). */
  static async start(options: TestSqsOptions = {}): Promise<Scenario> {
    return new Scenario(await TestSqs.start(options));
  }

  /** Environment for sqsd: this server, its credentials, and the events file. */
  get env(): Record<string, string> {
    return { ...this.sqs.env, ...this.ws.env };
  }

  /** Writes a test config for these fixture receivers and returns its path. */
  writeConfig(receivers: readonly string[], overrides: Record<string, unknown> = {}, name?: string): string {
    return this.ws.writeConfig(testConfig(this.sqs, receivers, overrides), name);
  }

  /** Runs `sqsd` to completion; `input` goes to its stdin. */
  run(args: readonly string[], input?: string): ReturnType<typeof runSqsd> {
    return runSqsd(args, { env: this.env, cwd: this.ws.dir, ...(input === undefined ? {} : { input }) });
  }

  /** Starts a long-running `sqsd`. */
  spawn(args: readonly string[]): SqsdProcess {
    const daemon = new SqsdProcess(args, { env: this.env, cwd: this.ws.dir });
    this.#daemons.push(daemon);
    return daemon;
  }

  async dispose(): Promise<void> {
    for (const daemon of this.#daemons) await daemon.dispose();
    await this.sqs.stop();
    this.ws.remove();
  }
}
