import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fullQueueName, isFifoName, namePartProblem, queueNameProblem } from "../../src/queue-names.js";

describe("full queue names", () => {
  it("joins prefix, name and suffix with double underscores, as django-sqs did", () => {
    assert.equal(fullQueueName({ name: "thumbnails" }), "thumbnails");
    assert.equal(fullQueueName({ prefix: "shop", name: "thumbnails" }), "shop__thumbnails");
    assert.equal(fullQueueName({ name: "thumbnails", suffix: "big" }), "thumbnails__big");
    assert.equal(fullQueueName({ prefix: "shop", name: "thumbnails", suffix: "big" }), "shop__thumbnails__big");
  });

  it("keeps .fifo last", () => {
    assert.equal(fullQueueName({ prefix: "shop", name: "orders.fifo", suffix: "eu" }), "shop__orders__eu.fifo");
    assert.equal(fullQueueName({ name: "orders.fifo" }), "orders.fifo");
    assert.ok(isFifoName("shop__orders__eu.fifo"));
    assert.ok(!isFifoName("orders"));
  });
});

describe("queue name rules", () => {
  it("accepts what SQS accepts", () => {
    for (const name of ["a", "A-b_9", "orders.fifo", "x".repeat(80), `${"x".repeat(75)}.fifo`]) {
      assert.equal(queueNameProblem(name), undefined, name);
    }
  });

  it("names the rule a bad name breaks", () => {
    assert.match(queueNameProblem("") ?? "", /1\.\.80 characters/);
    assert.match(queueNameProblem("x".repeat(81)) ?? "", /1\.\.80 characters long \(it has 81\)/);
    assert.match(queueNameProblem("has space") ?? "", /letters, digits/);
    assert.match(queueNameProblem("dots.in.name") ?? "", /letters, digits/);
    assert.match(queueNameProblem("fifo.fifo.fifo") ?? "", /letters, digits/);
  });

  it("checks prefixes and suffixes, which may not carry .fifo", () => {
    assert.equal(namePartProblem("eu-west_1"), undefined);
    assert.match(namePartProblem("") ?? "", /must not be empty/);
    assert.match(namePartProblem("x.fifo") ?? "", /letters, digits/);
  });
});
