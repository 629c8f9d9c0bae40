import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { trace } from "@opentelemetry/api";
import { flushSpans } from "../../src/telemetry/flush.js";
import { setWarningSink } from "../../src/warnings.js";

describe("flushing the app's SDK", () => {
  it("reports an export that failed, and still resolves", async () => {
    const provider = {
      getTracer: () => {
        throw new Error("no tracer is asked for here");
      },
      forceFlush: () => Promise.reject(new Error("collector unreachable")),
    };
    trace.setGlobalTracerProvider(provider);
    const warnings: { message: string; code: string }[] = [];
    const restore = setWarningSink((message, code) => warnings.push({ message, code }));
    try {
      await flushSpans(60_000);
    } finally {
      restore();
      trace.disable();
    }
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]?.code, "SQSD_TELEMETRY_FLUSH_FAILED");
    assert.match(warnings[0]?.message ?? "", /collector unreachable/);
  });
});
