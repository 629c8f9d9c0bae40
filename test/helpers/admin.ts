import { GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import type { TestSqsOptions } from "./local-sqs.js";
import { Scenario } from "./scenario.js";

/**
 * A scenario for the queue-admin commands: its own SQS server and a config registering `orders` (suffix `eu`,
 * a dead-letter queue) and `emails`, with queue creation off, as in production.
 */
export class AdminScenario {
  readonly scenario: Scenario;
  readonly configPath: string;

  private constructor(scenario: Scenario) {
    this.scenario = scenario;
    this.configPath = scenario.writeConfig(["orders", "emails"], { createQueues: false });
  }

  static async start(options: TestSqsOptions = {}): Promise<AdminScenario> {
    return new AdminScenario(await Scenario.start(options));
  }

  /** Runs `sqsd --config <config> ...args` to completion; `json()` parses its stdout. */
  sqsd(...args: string[]) {
    return this.sqsdWithInput(undefined, ...args);
  }

  /** {@link AdminScenario.sqsd}, with `input` written to its stdin. */
  async sqsdWithInput(input: string | undefined, ...args: string[]) {
    const result = await this.scenario.run(["--config", this.configPath, ...args], input);
    return { ...result, json: () => JSON.parse(result.stdout) as Record<string, unknown> };
  }

  /** A queue's URL (creating it if `sqsd init` has not). */
  urlOf(name: string): Promise<string> {
    return this.scenario.sqs.createQueue(name);
  }

  /** All of a queue's attributes, as SQS reports them. */
  async attributes(name: string): Promise<Record<string, string>> {
    const { Attributes } = await this.scenario.sqs.client.send(
      new GetQueueAttributesCommand({ QueueUrl: await this.urlOf(name), AttributeNames: ["All"] }),
    );
    return Attributes ?? {};
  }

  /** Receives and keeps hidden everything visible in a queue; returns the bodies. */
  async drain(url: string): Promise<Set<string>> {
    const bodies = new Set<string>();
    for (;;) {
      const messages = await this.scenario.sqs.receive(url, { max: 10, waitSeconds: 0, visibilitySeconds: 300 });
      if (messages.length === 0) return bodies;
      for (const message of messages) bodies.add(message.Body!);
    }
  }

  dispose(): Promise<void> {
    return this.scenario.dispose();
  }
}
