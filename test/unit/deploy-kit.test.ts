import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { ScaledObject } from "@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject";
import { TriggerAuthentication } from "@kubernetes-models/keda/keda.sh/v1alpha1/TriggerAuthentication";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";
import { ServiceAccount } from "kubernetes-models/v1/ServiceAccount";
import { parseAllDocuments } from "yaml";
import { physicalQueues } from "../../src/admin/physical-queues.js";
import { loadConfig } from "../../src/config/load.js";
import type { ResolvedConfig } from "../../src/config/types.js";
import { findReceiverModules, importReceiverModules } from "../../src/receivers.js";
import { getRegistry } from "../../src/registry/registry.js";
import { sqsSettingsFromConfig } from "../../src/sqs/configure-from-file.js";
import { configureSqs } from "../../src/sqs/settings.js";
import { repoRoot } from "../helpers/paths.js";

/**
 * The deploy kit in deploy/: every Kubernetes manifest validates against the Kubernetes (and KEDA) OpenAPI
 * schemas that kubernetes-models ships, the ECS task definition and IAM policies have the structure AWS
 * requires, and all of them agree with the example config they were written for: its HTTP port, its drain
 * time, its queue names, prefix and region.
 */

const deploy = join(repoRoot, "deploy");

/** The Kubernetes kinds the kit ships, each with the model that validates it against its schema. */
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  "v1/ServiceAccount": ServiceAccount,
  "apps/v1/Deployment": Deployment,
  "networking.k8s.io/v1/NetworkPolicy": NetworkPolicy,
  "keda.sh/v1alpha1/ScaledObject": ScaledObject,
  "keda.sh/v1alpha1/TriggerAuthentication": TriggerAuthentication,
};

/**
 * What a stop can take beyond `drainTimeoutMs` at worst (docs/operations.md, "How long a stop takes"):
 * aborted handlers' grace (2 s), the wait after their threads are ended (2 s), teardown hooks (10 s), and the
 * ack flush. The docs recommend `drainTimeoutMs / 1000 + 20`, which leaves 6 s for the flush.
 */
const STOP_MARGIN_SECONDS = 2 + 2 + 10;
const RECOMMENDED_MARGIN_SECONDS = 20;
/** ECS refuses a container stopTimeout above this. */
const ECS_MAX_STOP_TIMEOUT_SECONDS = 120;

/** SQS's IAM actions (the batch APIs are authorized by their single-message actions). */
const SQS_IAM_ACTIONS = new Set([
  "sqs:AddPermission",
  "sqs:CancelMessageMoveTask",
  "sqs:ChangeMessageVisibility",
  "sqs:CreateQueue",
  "sqs:DeleteMessage",
  "sqs:DeleteQueue",
  "sqs:GetQueueAttributes",
  "sqs:GetQueueUrl",
  "sqs:ListDeadLetterSourceQueues",
  "sqs:ListMessageMoveTasks",
  "sqs:ListQueueTags",
  "sqs:ListQueues",
  "sqs:PurgeQueue",
  "sqs:ReceiveMessage",
  "sqs:RemovePermission",
  "sqs:SendMessage",
  "sqs:SetQueueAttributes",
  "sqs:StartMessageMoveTask",
  "sqs:TagQueue",
  "sqs:UntagQueue",
]);

/**
 * Each policy and the SQS calls its principal makes, read from src/commands and src/sqs (docs/deploying.md
 * lists them per command). A policy must grant exactly these: one more is not minimal, one less fails a call.
 */
const POLICY_ACTIONS: Record<string, readonly string[]> = {
  "daemon.json": [
    "sqs:GetQueueUrl",
    "sqs:GetQueueAttributes",
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibility",
    "sqs:SendMessage",
  ],
  "daemon-create-queues.json": ["sqs:CreateQueue"],
  "daemon-schedules.json": ["sqs:ListQueueTags", "sqs:TagQueue"],
  "keda-scaler.json": ["sqs:GetQueueAttributes"],
  "status.json": ["sqs:GetQueueUrl", "sqs:GetQueueAttributes"],
  "wait.json": ["sqs:GetQueueUrl", "sqs:GetQueueAttributes"],
  "clear.json": ["sqs:GetQueueUrl", "sqs:GetQueueAttributes", "sqs:ReceiveMessage", "sqs:DeleteMessage"],
  "clear-purge.json": ["sqs:GetQueueUrl", "sqs:GetQueueAttributes", "sqs:PurgeQueue"],
  "peek.json": ["sqs:GetQueueUrl", "sqs:ReceiveMessage", "sqs:ChangeMessageVisibility"],
  "send.json": ["sqs:GetQueueUrl", "sqs:GetQueueAttributes", "sqs:SendMessage"],
  "init.json": ["sqs:GetQueueUrl", "sqs:GetQueueAttributes", "sqs:CreateQueue", "sqs:SetQueueAttributes"],
  "redrive.json": [
    "sqs:GetQueueUrl",
    "sqs:GetQueueAttributes",
    "sqs:StartMessageMoveTask",
    "sqs:ListMessageMoveTasks",
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:SendMessage",
  ],
};

interface Manifest {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string };
  readonly spec?: Record<string, unknown>;
  readonly file: string;
}

// The manifests are checked field by field below; `any` keeps those checks readable, and the schema
// validation above them is what vouches for the shapes.
/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-return */

function readYaml(path: string): unknown[] {
  return parseAllDocuments(readFileSync(path, "utf8")).map((document) => {
    assert.deepEqual(document.errors, [], `${path} parses as YAML`);
    return document.toJS() as unknown;
  });
}

function readManifests(): Manifest[] {
  const folder = join(deploy, "kubernetes");
  return readdirSync(folder)
    .filter((file) => file.endsWith(".yaml"))
    .flatMap((file) => readYaml(join(folder, file)).map((document) => ({ ...(document as Manifest), file })));
}

function only(manifests: readonly Manifest[], kind: string): any {
  const found = manifests.filter((manifest) => manifest.kind === kind);
  assert.equal(found.length, 1, `one ${kind}`);
  return found[0];
}

/** Seconds a stop can take at worst with this config, before the ack flush. */
function worstStopSeconds(config: ResolvedConfig): number {
  const pollsSeconds = config.drainPolls === "wait" ? config.defaults.waitTimeSeconds : 0;
  return Math.max(config.drainTimeoutMs / 1000, pollsSeconds) + STOP_MARGIN_SECONDS;
}

function assertStopTimeout(name: string, seconds: number, config: ResolvedConfig): void {
  assert.ok(
    seconds > worstStopSeconds(config),
    `${name} ${seconds} s must exceed the worst-case stop, ${worstStopSeconds(config)} s plus the ack flush`,
  );
  assert.ok(
    seconds >= config.drainTimeoutMs / 1000 + RECOMMENDED_MARGIN_SECONDS,
    `${name} ${seconds} s is below the documented drainTimeoutMs / 1000 + ${RECOMMENDED_MARGIN_SECONDS}`,
  );
}

describe("the deploy kit", () => {
  let config: ResolvedConfig;
  let queueNames: string[];
  let manifests: Manifest[];

  before(async () => {
    config = await loadConfig({ configPath: join(deploy, "sqs.config.ts"), env: {}, isTTY: false });
    // As every command does: queue names take the config's prefix from the SQS settings.
    configureSqs(sqsSettingsFromConfig(config));
    await importReceiverModules(await findReceiverModules(config.receivers, config.configPath));
    queueNames = physicalQueues(getRegistry().list(), config).map((queue) => queue.fullName);
    manifests = readManifests();
  });

  it("ships an example config that the probes and scrapers can reach", () => {
    assert.ok(config.http, "the example turns the HTTP endpoint on");
    assert.equal(config.http.host, "0.0.0.0", "127.0.0.1 cannot be reached from outside the container");
    assert.ok(config.queuePrefix, "the IAM policies are scoped by the queue prefix");
    assert.deepEqual(queueNames, ["shop__emails", "shop__thumbnails", "shop__thumbnails__big"]);
  });

  it("validates every Kubernetes manifest against its schema", () => {
    assert.ok(manifests.length >= 5);
    for (const manifest of manifests) {
      const key = `${manifest.apiVersion}/${manifest.kind}`;
      const Model = MODELS[key];
      assert.ok(Model, `${manifest.file}: no schema known for ${key}`);
      assert.doesNotThrow(() => new Model(manifest as never).validate(), `${manifest.file}: ${key} is valid`);
    }
  });

  it("runs the Deployment with probes on the config's port and a grace period that covers a drain", () => {
    const deployment = only(manifests, "Deployment");
    const pod = deployment.spec.template.spec;
    assert.equal(deployment.spec.replicas, undefined, "KEDA owns the replica count");
    assertStopTimeout("terminationGracePeriodSeconds", pod.terminationGracePeriodSeconds, config);
    assert.equal(pod.serviceAccountName, only(manifests, "ServiceAccount").metadata.name);

    const [container] = pod.containers;
    const [port] = container.ports;
    assert.equal(port.containerPort, config.http?.port);
    const probes = {
      startupProbe: "/healthz",
      livenessProbe: "/healthz",
      readinessProbe: "/readyz",
    } as const;
    for (const [probe, path] of Object.entries(probes)) {
      assert.equal(container[probe].httpGet.path, path, `${probe} path`);
      assert.equal(container[probe].httpGet.port, port.name, `${probe} uses the container port`);
    }
    // A liveness probe must not restart a daemon that is merely waiting out its stall window.
    const liveness = container.livenessProbe;
    assert.ok(liveness.periodSeconds * liveness.failureThreshold >= 30);

    const annotations = deployment.spec.template.metadata.annotations;
    assert.equal(annotations["prometheus.io/port"], String(config.http?.port));
    assert.equal(annotations["prometheus.io/path"], "/metrics");

    // The TypeScript loader needs a writable /tmp under a read-only root filesystem.
    assert.equal(container.securityContext.readOnlyRootFilesystem, true);
    const tmp = container.volumeMounts.find((mount: any) => mount.mountPath === "/tmp");
    assert.ok(tmp, "/tmp is mounted");
    assert.ok(pod.volumes.find((volume: any) => volume.name === tmp.name).emptyDir);
  });

  it("lets only the HTTP port in", () => {
    const policy = only(manifests, "NetworkPolicy");
    const deployment = only(manifests, "Deployment");
    assert.deepEqual(policy.spec.podSelector.matchLabels, deployment.spec.selector.matchLabels);
    const ports = policy.spec.ingress.flatMap((rule: any) => rule.ports.map((port: any) => port.port));
    assert.deepEqual(ports, [deployment.spec.template.spec.containers[0].ports[0].name]);
  });

  it("scales from zero with one aws-sqs-queue trigger per consumed queue", () => {
    const scaled = only(manifests, "ScaledObject");
    assert.equal(scaled.spec.scaleTargetRef.name, only(manifests, "Deployment").metadata.name);
    assert.equal(scaled.spec.minReplicaCount, 0);
    const auth = only(manifests, "TriggerAuthentication").metadata.name;
    const urls = scaled.spec.triggers.map((trigger: any) => {
      assert.equal(trigger.type, "aws-sqs-queue");
      assert.equal(trigger.authenticationRef.name, auth);
      assert.equal(trigger.metadata.awsRegion, config.region);
      assert.ok(Number(trigger.metadata.queueLength) > 0);
      return trigger.metadata.queueURL as string;
    });
    assert.deepEqual(
      urls.map((url: string) => new URL(url).pathname.split("/").pop()),
      queueNames,
      "a trigger for each queue, in order",
    );
    for (const url of urls) assert.equal(new URL(url).hostname, `sqs.${config.region}.amazonaws.com`);
  });

  it("gives Prometheus a scrape job for the pods' HTTP port", () => {
    const [document] = readYaml(join(deploy, "prometheus", "scrape-config.yaml")) as any[];
    const [job] = document.scrape_configs;
    assert.equal(job.metrics_path, "/metrics");
    assert.ok(job.kubernetes_sd_configs.some((sd: any) => sd.role === "pod"));
    const keep = job.relabel_configs.find(
      (rule: any) => rule.action === "keep" && rule.source_labels.includes("__meta_kubernetes_pod_container_port_name"),
    );
    assert.equal(keep.regex, only(manifests, "Deployment").spec.template.spec.containers[0].ports[0].name);
  });

  it("has an ECS task definition with a stop timeout, health check and awslogs", () => {
    const task = JSON.parse(readFileSync(join(deploy, "ecs", "task-definition.json"), "utf8"));
    for (const field of ["family", "taskRoleArn", "executionRoleArn", "cpu", "memory"]) {
      assert.equal(typeof task[field], "string", `${field} is a string`);
    }
    assert.equal(task.networkMode, "awsvpc");
    assert.equal(task.containerDefinitions.length, 1);
    const [container] = task.containerDefinitions;
    for (const field of ["name", "image"]) assert.equal(typeof container[field], "string");
    assert.equal(container.essential, true);

    assertStopTimeout("stopTimeout", container.stopTimeout, config);
    assert.ok(container.stopTimeout <= ECS_MAX_STOP_TIMEOUT_SECONDS, `ECS allows at most 120 s`);
    assert.equal(container.portMappings[0].containerPort, config.http?.port);

    const check = container.healthCheck;
    assert.ok(["CMD", "CMD-SHELL"].includes(check.command[0]));
    assert.match(check.command.join(" "), new RegExp(`:${config.http?.port}/healthz`));
    // ECS's bounds: interval 5..300, timeout 2..60, retries 1..10, startPeriod 0..300.
    assert.ok(check.interval >= 5 && check.interval <= 300);
    assert.ok(check.timeout >= 2 && check.timeout <= 60 && check.timeout < check.interval);
    assert.ok(check.retries >= 1 && check.retries <= 10);
    assert.ok(check.startPeriod >= 0 && check.startPeriod <= 300);

    const logs = container.logConfiguration;
    assert.equal(logs.logDriver, "awslogs");
    for (const option of ["awslogs-group", "awslogs-region", "awslogs-stream-prefix"]) {
      assert.equal(typeof logs.options[option], "string", `${option} is set`);
    }
    assert.equal(logs.options["awslogs-region"], config.region);

    assert.equal(container.readonlyRootFilesystem, true);
    const tmp = container.mountPoints.find((mount: any) => mount.containerPath === "/tmp");
    assert.ok(task.volumes.some((volume: any) => volume.name === tmp.sourceVolume));
  });

  it("grants each IAM policy exactly the SQS actions its principal calls, on the prefix's queues only", () => {
    const folder = join(deploy, "iam");
    const files = readdirSync(folder).filter((file) => file.endsWith(".json"));
    assert.deepEqual(files.toSorted(), Object.keys(POLICY_ACTIONS).toSorted());
    const queueArns = `arn:aws:sqs:${config.region}:123456789012:${config.queuePrefix}__*`;
    for (const file of files) {
      const policy = JSON.parse(readFileSync(join(folder, file), "utf8"));
      assert.equal(policy.Version, "2012-10-17", file);
      assert.ok(Array.isArray(policy.Statement) && policy.Statement.length > 0, file);
      const actions = policy.Statement.flatMap((statement: any) => {
        assert.equal(statement.Effect, "Allow", file);
        assert.equal(statement.Resource, queueArns, `${file}: scoped to the prefix's queues`);
        for (const action of statement.Action) assert.ok(SQS_IAM_ACTIONS.has(action), `${file}: ${action}`);
        return statement.Action as string[];
      });
      assert.deepEqual(actions.toSorted(), [...(POLICY_ACTIONS[file] ?? [])].toSorted(), file);
    }
  });
});
