import assert from "node:assert/strict";
import { once } from "node:events";
import { randomUUID } from "node:crypto";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { describe, it } from "node:test";
import { memoryStore } from "../../src/idempotency/memory-store.js";
import { storeContract } from "../helpers/idempotency-contract.js";

describe("memoryStore", () => {
  const store = memoryStore("contract");
  storeContract(() => store);

  it("holds across the process's threads: a worker thread sees the key the main thread holds", async () => {
    const key = `threads#${randomUUID()}`;
    await store.begin(key, Date.now() + 60_000, Math.round(Date.now() / 1000) + 3600);
    const module = pathToFileURL(new URL("../../src/idempotency/memory-store.js", import.meta.url).pathname).href;
    const worker = new Worker(
      `import { workerData, parentPort } from "node:worker_threads";
       const { memoryStore } = await import(workerData.module);
       const store = memoryStore("contract");
       const held = await store.begin(workerData.key, Date.now() + 1000, Math.round(Date.now() / 1000) + 3600);
       const lock = Date.now() + 1000;
       await store.begin(workerData.other, lock, Math.round(Date.now() / 1000) + 3600);
       await store.complete(workerData.other, null, Math.round(Date.now() / 1000) + 3600, lock);
       parentPort.postMessage(held.kind);`,
      { eval: true, workerData: { module, key, other: `${key}-other` } },
    );
    const [kind] = (await once(worker, "message")) as [string];
    await once(worker, "exit");
    assert.equal(kind, "inProgress");
    const completedThere = await store.begin(`${key}-other`, Date.now() + 1000, Math.round(Date.now() / 1000) + 3600);
    assert.equal(completedThere.kind, "completed");
  });
});
