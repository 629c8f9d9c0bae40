import type { IncomingMessage } from "node:http";
import { ForwardingProxy, type Exchange } from "./forwarding-proxy.js";

/**
 * An HTTP proxy in front of the SQS server, for tests that need to see or bend what sqsd asks of SQS. It
 * notes which SQS API each request called (the `X-Amz-Target` header of SQS's JSON protocol), so a test can
 * list the calls a command made; and while `emptyReceives` is on it answers every ReceiveMessage itself with
 * no messages after the request's long-poll wait, as a receive that finds the queue empty would, while every
 * other request (status reads, deletes) reaches the server: the queue's messages stay visible and polling
 * never goes quiet, the fault only the starved-queue check sees. While `holdSends` is on it holds sends before
 * they reach the server, to test what an abort of a send under way prevents.
 */
export class SqsHttpProxy extends ForwardingProxy {
  #calls = new Set<string>();
  /** Answer receives with nothing instead of forwarding them. */
  emptyReceives = false;
  /**
   * Hold the server's answers to receives instead of passing them on, until {@link SqsHttpProxy.releaseHeld}:
   * an answer "in transit", for tests of what happens meanwhile.
   */
  holdReceiveAnswers = false;
  readonly #held: (() => void)[] = [];
  /**
   * Hold sends (SendMessage, SendMessageBatch) before they reach the server, until
   * {@link SqsHttpProxy.releaseSends}: a request still in transit. A held send whose client hung up meanwhile
   * (it aborted the request) is dropped at release, as a request that never arrived.
   */
  holdSends = false;
  readonly #heldSends: (() => void)[] = [];
  /** Held sends whose client hung up while they were held. */
  sendsAbandoned = 0;
  /** Held sends dropped at release because their client had hung up. */
  sendsDropped = 0;
  /** Receives answered with nothing so far. */
  emptied = 0;

  /** Starts a proxy on a free loopback port in front of `targetUrl`. */
  static start(targetUrl: string): Promise<SqsHttpProxy> {
    return ForwardingProxy.listening(new SqsHttpProxy(targetUrl));
  }

  /** The SQS APIs called since the last take (`ReceiveMessage`, `DeleteMessageBatch`, ...), sorted. */
  take(): string[] {
    const calls = [...this.#calls].sort();
    this.#calls = new Set();
    return calls;
  }

  /** Answers to receives held so far and not yet released. */
  get held(): number {
    return this.#held.length;
  }

  /** Sends held so far and not yet released. */
  get heldSends(): number {
    return this.#heldSends.length;
  }

  /** Lets every held send go on to the server, but those whose client hung up. */
  releaseSends(): void {
    for (const pass of this.#heldSends.splice(0)) pass();
  }

  /** Passes on every held answer. */
  releaseHeld(): void {
    for (const pass of this.#held.splice(0)) pass();
  }

  protected override handle(exchange: Exchange): void {
    const { action } = exchange;
    if (action !== undefined) this.#calls.add(action);
    if (this.emptyReceives && action === "ReceiveMessage") {
      const wait = exchange.json()?.["WaitTimeSeconds"];
      const timer = setTimeout(
        () => {
          this.emptied += 1;
          exchange.reply(200, { "content-type": "application/x-amz-json-1.0" }, "{}");
        },
        (typeof wait === "number" ? wait : 0) * 1000,
      );
      exchange.onHangUp(() => clearTimeout(timer));
      return;
    }
    if (this.holdSends && (action === "SendMessage" || action === "SendMessageBatch")) {
      let held = true;
      exchange.onHangUp(() => {
        if (held) this.sendsAbandoned += 1;
      });
      this.#heldSends.push(() => {
        held = false;
        if (exchange.clientGone) this.sendsDropped += 1;
        else exchange.forward((answer) => this.#answer(exchange, answer));
      });
      return;
    }
    exchange.forward((answer) => this.#answer(exchange, answer));
  }

  #answer(exchange: Exchange, answer: IncomingMessage): void {
    if (this.holdReceiveAnswers && exchange.action === "ReceiveMessage") this.#held.push(() => exchange.pass(answer));
    else exchange.pass(answer);
  }
}
