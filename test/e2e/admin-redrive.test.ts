import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { AdminScenario } from "../helpers/admin.js";
import { eventually } from "../helpers/eventually.js";
import { sqsServers } from "../helpers/local-sqs.js";

/** Moving dead letters back, spawned as an operator runs it; killed halfway, it loses nothing. */
for (const server of sqsServers())
  describe(`sqsd redrive on ${server.name}`, { skip: server.skip }, () => {
    let admin: AdminScenario;
    beforeEach(async () => {
      admin = await AdminScenario.start({ server: server.name });
    });
    afterEach(() => admin.dispose());

    it("redrive moves 50 dead letters back, losing none", async () => {
      assert.equal((await admin.sqsd("init")).code, 0);
      const bodies = Array.from({ length: 50 }, (_, n) => `message ${n}`);
      await admin.scenario.sqs.sendMany(await admin.urlOf("orders__dlq"), bodies);
      const result = await admin.sqsd("redrive", "orders", "--json");
      assert.equal(result.code, 0, result.stderr);
      // Neither server moves messages itself (fauxqs has no StartMessageMoveTask, moto answers it with a 500), so
      // this is the copy path: send to the source, then delete.
      assert.deepEqual(result.json(), {
        source: "orders",
        deadLetterQueue: "orders__dlq",
        method: "copy",
        moved: 50,
        failed: 0,
        hidden: 0,
      });
      assert.deepEqual(await admin.drain(await admin.urlOf("orders")), new Set(bodies));
      assert.deepEqual(await admin.scenario.sqs.counts(await admin.urlOf("orders__dlq")), {
        visible: 0,
        inFlight: 0,
        delayed: 0,
      });
    });

    it("redrive reports messages still hidden in the dead-letter queue instead of announcing success", async () => {
      assert.equal((await admin.sqsd("init")).code, 0);
      const dlqUrl = await admin.urlOf("orders__dlq");
      await admin.scenario.sqs.sendMany(
        dlqUrl,
        Array.from({ length: 8 }, (_, n) => `message ${n}`),
      );
      // What a killed redrive leaves behind: a batch received from the dead-letter queue and never deleted. A
      // long visibility timeout keeps it hidden for the whole test, so the rerun must see it as hidden.
      const held = await admin.scenario.sqs.receive(dlqUrl, { max: 3, waitSeconds: 0, visibilitySeconds: 300 });
      assert.equal(held.length, 3);
      const result = await admin.sqsd("redrive", "orders", "--json");
      assert.equal(result.code, 1, result.stderr);
      assert.deepEqual(result.json(), {
        source: "orders",
        deadLetterQueue: "orders__dlq",
        method: "copy",
        moved: 5,
        failed: 0,
        hidden: 3,
      });
      const text = await admin.sqsd("redrive", "orders");
      assert.equal(text.code, 1, text.stderr);
      assert.match(text.stdout, /^not moved: about 3 message\(s\) hidden in orders__dlq \(received and not deleted/m);
    });

    it("redrive killed halfway loses no message", async () => {
      assert.equal((await admin.sqsd("init")).code, 0);
      const bodies = Array.from({ length: 50 }, (_, n) => `message ${n}`);
      await admin.scenario.sqs.sendMany(await admin.urlOf("orders__dlq"), bodies);
      const redrive = admin.scenario.spawn([
        "--config",
        admin.configPath,
        "redrive",
        "orders",
        "--max-per-second",
        "5",
      ]);
      await eventually(async () => (await admin.scenario.sqs.counts(await admin.urlOf("orders"))).visible >= 10);
      redrive.kill("SIGKILL");
      await redrive.exited;
      const moved = await admin.drain(await admin.urlOf("orders"));
      assert.ok(moved.size > 0 && moved.size < 50, `killed halfway: ${moved.size} moved`);
      // What was received from the dead-letter queue but not yet deleted comes back after its visibility timeout
      // (10 s). Receive until every body is accounted for: fauxqs returns expired messages only when something
      // receives (its NotVisible count stays put until then), so waiting on the counts alone can wait forever.
      const dlqUrl = await admin.urlOf("orders__dlq");
      const left = new Set<string>();
      const missing = () => bodies.filter((body) => !moved.has(body) && !left.has(body));
      await eventually(
        async () => {
          for (const body of await admin.drain(dlqUrl)) left.add(body);
          return missing().length === 0;
        },
        { timeoutMs: 40_000, intervalMs: 500, message: () => `lost ${missing().length}: ${missing().join(", ")}` },
      );
      assert.deepEqual(new Set([...moved, ...left]), new Set(bodies), "every message is in one queue or the other");
    });
  });
