import type { ServerResponse } from "node:http";
import type { LiveSampler, LiveSample, LiveState } from "./live-sampler.js";

/**
 * SSE streams open at once. The HTTP server adds this many connections to its own limit when it serves the
 * dashboard, so that streams never take the connections probes, scrapes and control requests need: a refused
 * liveness probe restarts the pod. A stream beyond this gets 503 (the page retries later).
 */
export const MAX_EVENT_STREAMS = 56;

/** A comment line this often keeps proxies (and the server's idle timeout) from closing a quiet stream. */
const HEARTBEAT_MS = 15_000;

/**
 * `GET /events`: the dashboard's Server-Sent Events stream. A new client gets one `snapshot` event (the
 * history and the state), then a `sample` event per sample the {@link LiveSampler} takes. Each event is
 * serialized once and the same text written to every client: 50 viewers cost one JSON.stringify per second
 * and 50 socket writes, and no SQS request. A client whose socket is not keeping up (its buffer still holds
 * the last event) skips events rather than growing the daemon's memory.
 */
export class EventStream {
  readonly #sampler: LiveSampler;
  readonly #clients = new Set<ServerResponse>();
  #unlisten: (() => void) | undefined;
  #heartbeat: NodeJS.Timeout | undefined;

  constructor(sampler: LiveSampler) {
    this.#sampler = sampler;
  }

  /** Streams open now. */
  get clients(): number {
    return this.#clients.size;
  }

  /** Serves one client until it disconnects or {@link EventStream.close}. */
  open(response: ServerResponse): void {
    if (this.#clients.size >= MAX_EVENT_STREAMS) {
      response.writeHead(503, { "content-type": "application/json", "retry-after": "30" });
      response.end(`${JSON.stringify({ error: `too many event streams open (${MAX_EVENT_STREAMS})` })}\n`);
      return;
    }
    response.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      "x-accel-buffering": "no",
    });
    // The browser reconnects after this many ms when the stream drops (a daemon restart).
    response.write(`retry: 2000\n`);
    response.write(event("snapshot", { history: this.#sampler.history(), state: this.#sampler.state() }));
    this.#clients.add(response);
    this.#ensureListening();
    const forget = (): void => {
      this.#clients.delete(response);
      if (this.#clients.size === 0) this.#stopListening();
    };
    response.once("close", forget);
  }

  /** Ends every stream (the server is stopping). */
  close(): void {
    for (const client of this.#clients) client.end();
    this.#clients.clear();
    this.#stopListening();
  }

  #ensureListening(): void {
    if (this.#unlisten) return;
    this.#unlisten = this.#sampler.listen((sample, state) => this.#broadcast(sample, state));
    this.#heartbeat = setInterval(() => this.#write(": keep-alive\n\n"), HEARTBEAT_MS);
    this.#heartbeat.unref();
  }

  // Nobody watching: the sampler keeps its history, but builds no state and reads no queue counts.
  #stopListening(): void {
    this.#unlisten?.();
    this.#unlisten = undefined;
    clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
  }

  #broadcast(sample: LiveSample, state: LiveState): void {
    this.#write(event("sample", { sample, state }));
  }

  #write(text: string): void {
    for (const client of this.#clients) {
      if (client.writableNeedDrain) continue;
      client.write(text);
    }
  }
}

function event(name: string, data: unknown): string {
  return `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
}
