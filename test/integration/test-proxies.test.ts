import assert from "node:assert/strict";
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { CountingProxy } from "../helpers/counting-proxy.js";
import { withDeadline } from "../helpers/deadline.js";
import { eventually } from "../helpers/eventually.js";
import { ReceiveWatch } from "../helpers/receive-watch.js";
import { RecordingProxy } from "../helpers/recording-proxy.js";
import { SqsHttpProxy } from "../helpers/sqs-http-proxy.js";

/*
 * The HTTP proxies the suite puts in front of SQS are how it sees what a waiting client does (ReceiveWatch,
 * SqsHttpProxy's held answers), so each must behave as no proxy would: an answer comes back as the server sent
 * it, a client that hangs up ends its request at the server, and a server that breaks off its answer breaks off
 * the client's. What stands behind them here is a plain HTTP server that answers, holds, or breaks off as told:
 * these are tests of HTTP forwarding, not of SQS.
 */

/** What the stand-in server does with each request. */
type Behaviour = "answer" | "hold" | "break";

/** One request as the stand-in server saw it. */
interface Seen {
  readonly outgoing: ServerResponse;
  /** The connection went away before an answer was written. */
  gone: boolean;
}

class StandIn {
  behaviour: Behaviour = "answer";
  readonly seen: Seen[] = [];
  readonly server: Server = createServer((incoming: IncomingMessage, outgoing: ServerResponse) => {
    const seen: Seen = { outgoing, gone: false };
    this.seen.push(seen);
    outgoing.once("close", () => (seen.gone = !outgoing.writableFinished));
    incoming.resume();
    incoming.once("end", () => {
      if (this.behaviour === "answer") {
        outgoing.writeHead(200, { "content-type": "application/x-amz-json-1.0", "x-stand-in": "yes" }).end('{"ok":1}');
      } else if (this.behaviour === "break") {
        // Promises 100 bytes, sends 9, and drops the connection.
        outgoing.writeHead(200, { "content-length": "100" }).write('{"Messag', () => outgoing.destroy());
      }
    });
  });

  get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
}

/** How a client's exchange through a proxy ended: its whole answer, or a connection cut short. */
interface Outcome {
  readonly status: number | undefined;
  readonly headers: IncomingMessage["headers"];
  readonly body: string;
  readonly complete: boolean;
}

/** Sends a ReceiveMessage to `endpoint`; `abort` ends it from the client's side. */
function receive(endpoint: string): { outcome: Promise<Outcome>; abort: () => void } {
  const body = JSON.stringify({ QueueUrl: "http://127.0.0.1/000000000000/q1", WaitTimeSeconds: 20 });
  const sent = request(`${endpoint}/`, {
    method: "POST",
    agent: false,
    headers: { "x-amz-target": "AmazonSQS.ReceiveMessage", "content-type": "application/x-amz-json-1.0" },
  });
  const outcome = new Promise<Outcome>((resolve) => {
    let answer: IncomingMessage | undefined;
    let text = "";
    sent.on("response", (response: IncomingMessage) => {
      answer = response;
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => (text += chunk));
      response.on("error", () => {});
    });
    sent.on("error", () => {});
    sent.on("close", () =>
      resolve({
        status: answer?.statusCode,
        headers: answer?.headers ?? {},
        body: text,
        complete: answer?.complete ?? false,
      }),
    );
  });
  sent.end(body);
  return { outcome, abort: () => sent.destroy() };
}

interface Proxy {
  readonly endpoint: string;
  stop(): Promise<void>;
}

const PROXIES: Record<string, (target: string) => Promise<Proxy>> = {
  CountingProxy: (target) => CountingProxy.start(target),
  ReceiveWatch: (target) => ReceiveWatch.start(target),
  SqsHttpProxy: (target) => SqsHttpProxy.start(target),
  RecordingProxy: (target) => RecordingProxy.start(target),
};

for (const [name, start] of Object.entries(PROXIES)) {
  describe(`${name} forwards as no proxy would`, () => {
    const standIn = new StandIn();
    let proxy: Proxy;
    before(async () => {
      await new Promise<void>((resolve) => standIn.server.listen(0, "127.0.0.1", resolve));
      proxy = await start(standIn.endpoint);
    });
    after(async () => {
      await proxy?.stop();
      standIn.server.closeAllConnections();
      await new Promise<void>((resolve) => standIn.server.close(() => resolve()));
    });

    it("passes the server's answer back as it was sent", async () => {
      standIn.behaviour = "answer";
      const outcome = await withDeadline(receive(proxy.endpoint).outcome, "the answer");
      assert.equal(outcome.status, 200);
      assert.equal(outcome.headers["x-stand-in"], "yes");
      assert.equal(outcome.body, '{"ok":1}');
      assert.ok(outcome.complete);
    });

    it("ends the request at the server when its client hangs up", async () => {
      standIn.behaviour = "hold";
      const before = standIn.seen.length;
      const { outcome, abort } = receive(proxy.endpoint);
      const seen = await eventually(() => standIn.seen[before], { message: "the request reached the server" });
      abort();
      await outcome;
      await eventually(() => seen.gone, { message: "the server saw the request go" });
    });

    it("breaks off the client's answer when the server breaks off its own", async () => {
      standIn.behaviour = "break";
      const outcome = await withDeadline(receive(proxy.endpoint).outcome, "the end of the client's answer");
      assert.equal(outcome.complete, false);
    });
  });
}

describe("SqsHttpProxy's held answers", () => {
  const standIn = new StandIn();
  let proxy: SqsHttpProxy;
  before(async () => {
    await new Promise<void>((resolve) => standIn.server.listen(0, "127.0.0.1", resolve));
    proxy = await SqsHttpProxy.start(standIn.endpoint);
  });
  after(async () => {
    await proxy?.stop();
    standIn.server.closeAllConnections();
    await new Promise<void>((resolve) => standIn.server.close(() => resolve()));
  });

  it("come back whole at release, and not before", async () => {
    proxy.holdReceiveAnswers = true;
    let settled = false;
    const { outcome } = receive(proxy.endpoint);
    void outcome.then(() => (settled = true));
    await eventually(() => proxy.held === 1, { message: "the answer was held" });
    assert.equal(settled, false, "no answer while it is held");
    proxy.holdReceiveAnswers = false;
    proxy.releaseHeld();
    const answer = await withDeadline(outcome, "the released answer");
    assert.equal(answer.body, '{"ok":1}');
    assert.ok(answer.complete);
  });

  it("are dropped at release when their client has hung up meanwhile", async () => {
    proxy.holdReceiveAnswers = true;
    const { outcome, abort } = receive(proxy.endpoint);
    await eventually(() => proxy.held === 1, { message: "the answer was held" });
    abort();
    await outcome;
    proxy.holdReceiveAnswers = false;
    proxy.releaseHeld();
    // The proxy goes on serving: the next answer comes back whole.
    const next = await withDeadline(receive(proxy.endpoint).outcome, "the next answer");
    assert.ok(next.complete);
  });
});
