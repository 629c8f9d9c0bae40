import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import type { OperationsServer } from "../../src/http/server.js";
import type { SupervisorHealth } from "../../src/supervisor/supervisor.js";
import { startOperationsServer } from "../helpers/operations-server.js";

type State = SupervisorHealth["state"];
const STATES: readonly State[] = ["starting", "running", "paused", "draining", "stopped"];

/** /readyz in every supervisor state, with and without `http.readyWhenPaused`, on a real HTTP server. */
describe("/readyz", () => {
  let server: OperationsServer | undefined;
  afterEach(() => server?.stop());

  async function readiness(readyWhenPaused: boolean): Promise<Record<State, { status: number; body: unknown }>> {
    let state: State = "starting";
    const started = await startOperationsServer({ readyWhenPaused, state: () => state });
    server = started.server;
    const answers = {} as Record<State, { status: number; body: unknown }>;
    for (const each of STATES) {
      state = each;
      const response = await fetch(`${started.base}/readyz`);
      answers[each] = { status: response.status, body: await response.json() };
    }
    return answers;
  }

  it("is ready only while running by default: paused counts as not ready", async () => {
    const answers = await readiness(false);
    assert.deepEqual(
      STATES.map((state) => answers[state].status),
      [503, 200, 503, 503, 503],
    );
    assert.deepEqual(answers.paused.body, { ready: false, state: "paused" });
  });

  it("stays ready while paused with readyWhenPaused, and only then", async () => {
    const answers = await readiness(true);
    assert.deepEqual(
      STATES.map((state) => answers[state].status),
      [503, 200, 200, 503, 503],
    );
    assert.deepEqual(answers.paused.body, { ready: true, state: "paused" });
  });
});
