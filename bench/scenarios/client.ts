/**
 * The CPU one SQS request costs this process, by client variant: the same empty ReceiveMessage (10 messages,
 * every attribute, no wait) sent again and again, in one process, variants alternating round by round so that
 * the machine's noise falls on all of them alike. CPU is `process.cpuUsage()` (user + system) over each
 * variant's batch, divided by its requests: what the supervisor's event loop pays per poll.
 *
 *   npm run bench -- --scenario client
 *
 * Variants: the default `SQSClient` (as a user writes it); `cacheMiddleware: true`; that plus `md5: false`;
 * sqsd's tuned SDK client as `createSqsClient` builds it (what `sqsTransport: "sdk"` receives through); and
 * sqsd's lean path (`sqsTransport: "lean"`, the default). DeleteMessageBatch of one unknown receipt handle is
 * measured too, for the default client, the tuned one and the lean path; and a ReceiveMessage that returns
 * 10 messages of 1 KiB (visibility 0, so the same ten come back), where the SDK's MD5 check has bodies to hash.
 *
 * Target (issue #18): the lean path at most 0.5× the default client's CPU per empty receive.
 */
import { Agent } from "node:http";
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
  type ReceiveMessageCommandInput,
} from "@aws-sdk/client-sqs";
import { createSqsClient, createSqsConnection } from "../../src/sqs/client.js";
import type { SqsSettings } from "../../src/sqs/settings.js";
import { BENCH_CREDENTIALS } from "../lib.js";
import { ratio, type Row, type Scenario } from "../report.js";

/** One way of sending the request under test. */
interface Variant {
  readonly name: string;
  readonly send: () => Promise<unknown>;
  readonly close: () => void;
}

export const client: Scenario = {
  name: "client",
  async run({ server, quick, log }) {
    const perRound = quick ? 300 : 1_500;
    const rounds = quick ? 2 : 5;
    const queueUrl = (await createQueue(server.client, "client-bench")) ?? "";
    const settings: SqsSettings = {
      region: "us-east-1",
      endpoint: server.endpoint,
      credentials: BENCH_CREDENTIALS,
      queuePrefix: undefined,
      createQueues: false,
    };
    const receive: ReceiveMessageCommandInput = {
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 0,
      MessageSystemAttributeNames: ["All"],
      MessageAttributeNames: ["All"],
    };
    const sdkClient = (extra: object): SQSClient =>
      new SQSClient({
        endpoint: server.endpoint,
        region: "us-east-1",
        credentials: BENCH_CREDENTIALS,
        requestHandler: { httpAgent: new Agent({ keepAlive: true, maxSockets: 50 }) },
        ...extra,
      });
    const viaSdk = (name: string, sqs: SQSClient, input: ReceiveMessageCommandInput, owned = true): Variant => ({
      name,
      send: () => sqs.send(new ReceiveMessageCommand(input)),
      close: () => (owned ? sqs.destroy() : undefined),
    });
    const defaultClient = sdkClient({});
    const cached = sdkClient({ cacheMiddleware: true });
    const noMd5 = sdkClient({ cacheMiddleware: true, md5: false });
    const tuned = createSqsClient(settings, { verifyMd5: false });
    const lean = createSqsConnection(settings, { transport: "lean" });
    const receives: Variant[] = [
      viaSdk("default SQSClient", defaultClient, receive),
      viaSdk("cacheMiddleware: true", cached, receive),
      viaSdk("cacheMiddleware + md5: false", noMd5, receive),
      viaSdk("sqsd's SDK client (sqsTransport: sdk)", tuned, receive),
      { name: "sqsd's lean path (sqsTransport: lean)", send: () => lean.hot.receiveMessage(receive), close: () => {} },
    ];
    const batch = { QueueUrl: queueUrl, Entries: [{ Id: "0", ReceiptHandle: "unknown-receipt-handle" }] };
    const defaultForDeletes = sdkClient({});
    const deletes: Variant[] = [
      {
        name: "default SQSClient",
        send: () => defaultForDeletes.send(new DeleteMessageBatchCommand(batch)),
        close: () => defaultForDeletes.destroy(),
      },
      { name: "sqsd's SDK client", send: () => tuned.send(new DeleteMessageBatchCommand(batch)), close: () => {} },
      { name: "sqsd's lean path", send: () => lean.hot.deleteMessageBatch(batch), close: () => lean.client.destroy() },
    ];
    try {
      const receiveCpu = await measure(receives, { perRound, rounds, log: (line) => log(`ReceiveMessage ${line}`) });
      const deleteCpu = await measure(deletes, {
        perRound: Math.round(perRound / 2),
        rounds,
        log: (line) => log(`DeleteMessageBatch ${line}`),
      });
      // The MD5 check only costs where there are bodies: 10 messages of 1 KiB, received again at once (visibility 0).
      const fullUrl = (await createQueue(server.client, "client-bench-full")) ?? "";
      await server.client.send(
        new SendMessageBatchCommand({
          QueueUrl: fullUrl,
          Entries: Array.from({ length: 10 }, (_, index) => ({ Id: String(index), MessageBody: "x".repeat(1024) })),
        }),
      );
      const full = { ...receive, QueueUrl: fullUrl, VisibilityTimeout: 0 };
      const fullReceives: Variant[] = [
        viaSdk("default SQSClient", defaultClient, full, false),
        viaSdk("cacheMiddleware: true (MD5 checked)", cached, full, false),
        viaSdk("cacheMiddleware + md5: false", noMd5, full, false),
        { name: "sqsd's lean path", send: () => lean.hot.receiveMessage(full), close: () => {} },
      ];
      const fullCpu = await measure(fullReceives, {
        perRound: Math.round(perRound / 3),
        rounds,
        log: (line) => log(`ReceiveMessage of 10 messages ${line}`),
      });
      return [
        ...rows("empty ReceiveMessage", receives, receiveCpu, perRound, rounds, true),
        ...rows("ReceiveMessage of 10 × 1 KiB", fullReceives, fullCpu, Math.round(perRound / 3), rounds, false),
        ...rows("DeleteMessageBatch (1 entry)", deletes, deleteCpu, Math.round(perRound / 2), rounds, false),
      ];
    } finally {
      for (const variant of [...receives, ...deletes]) variant.close();
    }
  },
};

/** Rounds run before the counted ones, for the JIT: the first rounds cost each variant up to twice as much. */
const WARM_UP_ROUNDS = 2;

/** CPU ms per request of each variant, over alternating rounds (warm-up rounds first, not counted). */
async function measure(
  variants: readonly Variant[],
  options: { perRound: number; rounds: number; log: (line: string) => void },
): Promise<number[]> {
  const cpuMs = variants.map(() => 0);
  for (let round = -WARM_UP_ROUNDS; round < options.rounds; round += 1) {
    // Each round starts with another variant, so that none always runs first (colder) or last.
    const offset = (round + WARM_UP_ROUNDS) % variants.length;
    for (const index of variants.map((_, position) => (position + offset) % variants.length)) {
      const variant = variants[index]!;
      const before = process.cpuUsage();
      for (let request = 0; request < options.perRound; request += 1) await variant.send();
      const used = process.cpuUsage(before);
      const perRequest = (used.user + used.system) / 1000 / options.perRound;
      if (round >= 0) cpuMs[index] = (cpuMs[index] ?? 0) + perRequest / options.rounds;
      options.log(
        `round ${round < 0 ? "warm-up" : round + 1}: ${variant.name} ${perRequest.toFixed(3)} ms CPU/request`,
      );
    }
  }
  return cpuMs;
}

function rows(
  what: string,
  variants: readonly Variant[],
  cpuMs: readonly number[],
  perRound: number,
  rounds: number,
  withTarget: boolean,
): Row[] {
  const baseline = cpuMs[0] ?? 1;
  return variants.map((variant, index) => {
    const cpu = cpuMs[index] ?? 0;
    const isLean = index === variants.length - 1;
    return {
      measure: `CPU per ${what}, ${variant.name} ÷ default SQSClient`,
      value: ratio(cpu, baseline),
      detail: `${cpu.toFixed(3)} vs ${baseline.toFixed(3)} ms CPU per request (${perRound} requests × ${rounds} alternating rounds)`,
      ...(withTarget && isLean ? { target: "≤ 0.5×", met: cpu <= 0.5 * baseline } : {}),
    };
  });
}

async function createQueue(sqs: SQSClient, name: string): Promise<string | undefined> {
  return (await sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl;
}
