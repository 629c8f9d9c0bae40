/**
 * The config the deploy kit's manifests are written for. The manifests depend on four of its values, and a
 * test (test/unit/deploy-kit.test.ts) checks that they agree: `http.port` (the container port the probes
 * and Prometheus use), `drainTimeoutMs` (the stop timeout), `queuePrefix` and `region` (the queue URLs and
 * ARNs in the KEDA triggers and IAM policies). Change one here, and change the manifests with it.
 */
import { defineConfig } from "sqsd";

export default defineConfig({
  region: "eu-west-1",
  // Staging and production in one account stay apart by prefix; the IAM policies are scoped by it.
  queuePrefix: "shop",
  receivers: ["./receivers/*.ts"],
  defaults: {
    // A message that failed 5 times goes to QUEUE__dlq (created by `sqsd init`), not round and round.
    deadLetter: { maxReceiveCount: 5 },
  },
  // Handlers that mostly wait on I/O: 2 threads (the pod's CPU limit) running 4 each, 8 messages at once.
  pool: { threads: 2, tasksPerThread: 4 },
  // A stop takes up to this plus about 20 s (docs/operations.md, "How long a stop takes"): the Deployment's
  // terminationGracePeriodSeconds and the ECS stopTimeout are 30 + 20 = 50.
  drainTimeoutMs: 30_000,
  http: {
    port: 9090,
    // The default, 127.0.0.1, is the container's own loopback: kubelet probes, Prometheus and the ECS
    // health check from outside could not reach it.
    host: "0.0.0.0",
    // From a Secret; without it the control routes (pause, resume, wake) are off, which is safe too.
    ...(process.env["SQSD_HTTP_TOKEN"] ? { token: process.env["SQSD_HTTP_TOKEN"] } : {}),
    // Readiness only gates Service endpoints (a worker has none it needs) and rollouts: a paused pod should
    // not hold a rolling update up. See docs/deploying.md.
    readyWhenPaused: true,
  },
  log: { level: "info", format: "json" },
});
