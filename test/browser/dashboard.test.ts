import assert from "node:assert/strict";
import { copyFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Page } from "playwright-core";
import { browserMissing, launchChromium } from "../helpers/browser.js";
import { eventually } from "../helpers/eventually.js";
import { repoRoot } from "../helpers/paths.js";
import { parsePrometheus, sampleValue } from "../helpers/prometheus.js";
import { Scenario } from "../helpers/scenario.js";

const TOKEN = "dashboard-test-token";
const missing = browserMissing();
// CI (.ci/run) sets SQSD_REQUIRE_BROWSER=1: there a missing browser fails the run instead of skipping the test.
const required = process.env["SQSD_REQUIRE_BROWSER"] === "1";
if (missing && !required) process.stdout.write(`# skipping the dashboard browser test: ${missing}\n`);

describe("the browser the dashboard test needs", { skip: !required }, () => {
  it("is installed (SQSD_REQUIRE_BROWSER=1)", () => {
    assert.equal(missing, undefined, missing);
  });
});

interface StatusJson {
  asOf: string;
  queues: { name: string; visible: number; inFlight: number; delayed: number }[];
  supervisor: { pollers: { queue: string; state: string; receivesUnderWay: number }[] };
}

/**
 * The dashboard in headless Chromium (Debian's package), against a daemon on fauxqs with messages flowing:
 * charts draw real points, the table agrees with /status.json, a queue paused from the page stops consuming
 * (as /metrics counts it) and resumes, and without a token the controls are disabled with the reason.
 */
describe("the dashboard in a browser", { skip: missing }, () => {
  let scenario: Scenario;
  let base: string;
  let close: (() => Promise<void>) | undefined;
  let page: Page;
  let feeder: NodeJS.Timeout | undefined;
  const urls: Record<string, string> = {};

  before(async () => {
    scenario = await Scenario.start();
    for (const name of ["ok", "slow"]) urls[name] = await scenario.sqs.createQueue(name);
    const configPath = scenario.writeConfig(["ok", "slow"], {
      http: { port: 0, token: TOKEN, statusCacheSeconds: 1 },
    });
    const daemon = scenario.spawn(["--config", configPath]);
    base = (await daemon.waitForLog((record) => record.message === "http endpoint listening")).url!;
    await daemon.started();
    // Messages keep flowing while the test runs: a few every 300 ms, some of them taking 20..60 ms.
    const feed = async () => {
      await scenario.sqs.sendMany(urls["ok"]!, ["{}", "{}", "{}"]);
      await scenario.sqs.sendMany(urls["slow"]!, [JSON.stringify({ ms: 20 }), JSON.stringify({ ms: 60 })]);
    };
    feeder = setInterval(() => void feed().catch(() => undefined), 300);
    const launched = await launchChromium();
    close = launched.close;
    page = await launched.browser.newPage({ viewport: { width: 1280, height: 900 } });
  });

  after(async () => {
    clearInterval(feeder);
    await close?.();
    await scenario?.dispose();
  });

  const metric = async (name: string, labels: Record<string, string>) =>
    sampleValue(parsePrometheus(await (await fetch(`${base}/metrics`)).text()), name, labels) ?? 0;
  const statusJson = async () => (await (await fetch(`${base}/status.json`)).json()) as StatusJson;
  /** Waits until a chart holds points above zero (the page counts them in its data-points attribute). */
  const chartHasPoints = (id: string) =>
    eventually(async () => Number(await page.locator(`#chart-${id}`).getAttribute("data-points")) > 0, {
      timeoutMs: 60_000,
      message: `the ${id} chart drew no point above zero`,
    });
  const cell = (queue: string, field: string) =>
    page.locator(`#queues tr[data-queue="${queue}"] [data-field="${field}"]`).textContent();

  it("opens the stream again after the daemon refused it, saying why", async () => {
    // The first /events is refused as a daemon at its stream limit does; the second waits for the test.
    let requests = 0;
    let letThrough!: () => void;
    const held = new Promise<void>((resolve) => (letThrough = resolve));
    await page.route("**/events", async (route) => {
      requests += 1;
      if (requests === 1) return route.fulfill({ status: 503, contentType: "application/json", body: "{}" });
      await held;
      return route.continue();
    });
    await page.goto(`${base}/`);
    await eventually(
      async () => /did not open a stream/.test((await page.locator("#connection").textContent()) ?? ""),
      {
        timeoutMs: 30_000,
        message: "the page never said the stream was refused",
      },
    );
    await eventually(() => requests === 2, { timeoutMs: 30_000, message: "the page never asked again" });
    letThrough();
    await eventually(async () => (await page.locator("#daemon [data-field=state]").textContent()) === "running", {
      timeoutMs: 30_000,
    });
    await page.unroute("**/events");
  });

  it("draws the charts from live data", async () => {
    for (const chart of ["processed", "duration", "depth", "sqs"]) {
      await chartHasPoints(chart);
    }
    assert.equal(await page.locator("#daemon [data-field=state]").textContent(), "running");
    // uPlot draws on canvas: one per chart.
    assert.equal(await page.locator(".charts canvas").count(), 4);
  });

  it("announces connection changes only, not every update", async () => {
    const updated = async () => (await page.locator("#updated").textContent()) ?? "";
    const first = await eventually(async () => /^Updated /.test(await updated()) && (await updated()), {
      timeoutMs: 30_000,
    });
    await eventually(async () => (await updated()) !== first, { timeoutMs: 30_000, message: "no second update" });
    // The live region says only "Live"; the time that changes every second is outside it.
    assert.equal(await page.locator("#connection").textContent(), "Live");
    assert.equal(await page.locator('[aria-live] #updated, #updated[aria-live], [role="status"] #updated').count(), 0);
  });

  it("shows the counts /status.json has", async () => {
    // The page and /status.json read the same cache: compare them when both show the same read.
    const { json, table } = await eventually(
      async () => {
        const json = await statusJson();
        const asOf = await page.locator("#daemon [data-field=statusAsOf]").getAttribute("data-as-of");
        if (Number(asOf) !== Date.parse(json.asOf)) return undefined;
        const table: Record<string, unknown>[] = [];
        for (const queue of json.queues) {
          table.push({
            name: queue.name,
            visible: Number(await cell(queue.name, "visible")),
            inFlight: Number(await cell(queue.name, "inFlight")),
            delayed: Number(await cell(queue.name, "delayed")),
          });
        }
        // The page may have moved on to the next read while we read its cells.
        const after = await page.locator("#daemon [data-field=statusAsOf]").getAttribute("data-as-of");
        return after === asOf && { json, table };
      },
      { timeoutMs: 60_000, message: "the page never showed the read /status.json served" },
    );
    assert.deepEqual(
      table,
      json.queues.map(({ name, visible, inFlight, delayed }) => ({ name, visible, inFlight, delayed })),
    );
  });

  it("pauses and resumes a queue with the token", async () => {
    await page.locator('#queues tr[data-queue="ok"] button').click();
    await page.locator("#token-input").fill(TOKEN);
    await page.locator("#token-form button[value=ok]").click();
    await eventually(async () => (await cell("ok", "paused")) === "paused", { timeoutMs: 30_000 });
    // Once the poller is paused and its last receive is back, nothing more is received from "ok".
    await eventually(
      async () => {
        const poller = (await statusJson()).supervisor.pollers.find((entry) => entry.queue === "ok");
        return poller?.state === "paused" && poller.receivesUnderWay === 0;
      },
      { timeoutMs: 30_000 },
    );
    const receivedAtPause = await metric("sqsd_messages_received_total", { queue: "ok" });
    const otherAtPause = await metric("sqsd_messages_received_total", { queue: "slow" });
    // The feeder goes on sending: wait until SQS holds a backlog that a consuming daemon would have taken.
    await eventually(
      async () => ((await statusJson()).queues.find((queue) => queue.name === "ok")?.visible ?? 0) >= 15,
      {
        timeoutMs: 60_000,
      },
    );
    assert.equal(await metric("sqsd_messages_received_total", { queue: "ok" }), receivedAtPause);
    assert.ok(
      (await metric("sqsd_messages_received_total", { queue: "slow" })) > otherAtPause,
      "the other queue goes on while this one is paused",
    );

    // The token is kept for the tab: no second prompt.
    await page.locator('#queues tr[data-queue="ok"] button').click();
    await eventually(async () => (await cell("ok", "paused")) === "consuming", { timeoutMs: 30_000 });
    assert.equal(await page.locator("#token-dialog").getAttribute("open"), null);
    await eventually(async () => (await metric("sqsd_messages_received_total", { queue: "ok" })) > receivedAtPause, {
      timeoutMs: 60_000,
    });
  });

  it("stays readable at 200% zoom (half the width): nothing but the table scrolls sideways", async () => {
    await page.setViewportSize({ width: 640, height: 900 });
    // Read through the DevTools protocol: the page's content security policy forbids evaluating strings.
    const overflow = () =>
      page
        .locator("html")
        .evaluate((html: { scrollWidth: number; clientWidth: number }) => html.scrollWidth - html.clientWidth);
    await eventually(async () => (await overflow()) <= 0, {
      timeoutMs: 10_000,
      message: () => "the page scrolls sideways at 640 px",
    });
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it("saves light and dark screenshots", async () => {
    const folder = join(repoRoot, "dist", "screenshots");
    mkdirSync(folder, { recursive: true });
    for (const scheme of ["light", "dark"] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      // The charts rebuild with the scheme's colours; wait for that rebuild, then for points again.
      await eventually(async () => (await page.locator("#chart-processed").getAttribute("data-scheme")) === scheme, {
        timeoutMs: 30_000,
        message: `the charts were not rebuilt for the ${scheme} scheme`,
      });
      await chartHasPoints("processed");
      const file = join(folder, `dashboard-${scheme}.png`);
      await page.screenshot({ path: file, fullPage: true });
      // SQSD_UPDATE_SCREENSHOTS=1 refreshes the README's images from this run.
      if (process.env["SQSD_UPDATE_SCREENSHOTS"] === "1")
        copyFileSync(file, join(repoRoot, "docs", "img", `dashboard-${scheme}.png`));
    }
  });

  it("disables the controls, saying why, on a daemon without a token; shows its schedules", async () => {
    // A schedule far from now (03:00 in Berlin): the row shows it without a tick coming due during the test.
    const schedule = { name: "nightly-tidy", cron: "0 3 * * *", queue: "ok", timezone: "Europe/Berlin" };
    const configPath = scenario.writeConfig(
      ["ok", "slow"],
      { http: { port: 0 }, schedules: [schedule] },
      "no-token.config.json",
    );
    const init = await scenario.run(["init", "--config", configPath]);
    assert.equal(init.code, 0, init.stderr);
    const daemon = scenario.spawn(["--config", configPath]);
    const noTokenBase = (await daemon.waitForLog((record) => record.message === "http endpoint listening")).url!;
    await daemon.started();
    await page.goto(`${noTokenBase}/dashboard`);
    await eventually(async () => (await page.locator("#daemon [data-field=state]").textContent()) === "running", {
      timeoutMs: 30_000,
    });
    for (const selector of ["#pause-daemon", "#resume-daemon", "#wake-daemon", '#queues tr[data-queue="ok"] button'])
      assert.equal(await page.locator(selector).isDisabled(), true, selector);
    assert.match((await page.locator("#controls-note").textContent()) ?? "", /no http\.token/);

    // The schedules table: the row the daemon's /status.json has, with its next run in the browser's time.
    const row = page.locator('#schedules tr[data-schedule="nightly-tidy"]');
    await eventually(async () => (await row.count()) === 1, { timeoutMs: 30_000, message: "no schedule row" });
    assert.equal(await page.locator("#schedules-section").isVisible(), true);
    const cells = await row.locator("th, td").allTextContents();
    const status = (await (await fetch(`${noTokenBase}/status.json`)).json()) as {
      schedules: { name: string; nextTicks: string[] }[];
    };
    const next = status.schedules.find((entry) => entry.name === "nightly-tidy")!.nextTicks[0]!;
    assert.deepEqual(cells.slice(0, 4), ["nightly-tidy", "0 3 * * *", "Europe/Berlin", cells[3]]);
    assert.match(cells[3]!, /ok$/);
    assert.equal(cells[4], await page.evaluate((iso) => new Date(iso).toLocaleString(), next));
  });
});
