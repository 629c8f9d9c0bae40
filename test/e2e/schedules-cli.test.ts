import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { fixture } from "../helpers/paths.js";
import { runSqsd } from "../helpers/daemon.js";
import { Workspace } from "../helpers/workspace.js";

/** `sqsd schedules` and the start-up checks of `schedules`, through the CLI; none of it needs SQS. */
describe("sqsd schedules", () => {
  const ws = new Workspace();
  const config = (schedules: unknown[]) =>
    ws.writeConfig({
      endpoint: "http://127.0.0.1:9", // never contacted: these commands stop before any request
      region: "us-east-1",
      queuePrefix: "shop",
      receivers: [fixture("receivers", "ok.ts"), fixture("receivers", "send-only.ts")],
      log: { level: "info", format: "json" },
      schedules,
    });
  before(() => undefined);
  after(() => ws.remove());

  it("lists each schedule's next three runs in its own time zone, with the offset", async () => {
    const configPath = config([
      { name: "nightly", cron: "30 2 * * *", timezone: "Europe/Berlin", queue: "outbox" },
      { name: "often", cron: "*/10 * * * * *", queue: "ok", catchUp: "latest" },
    ]);
    const text = await runSqsd(["--config", configPath, "schedules"], { cwd: ws.dir });
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^SCHEDULE\s+CRON\s+TIME ZONE\s+QUEUE\s+NEXT RUNS$/m);
    assert.match(
      text.stdout,
      /^nightly\s+30 2 \* \* \*\s+Europe\/Berlin\s+shop__outbox\s+\d{4}-\d\d-\d\d 02:30:00 \+0[12]:00, /m,
    );
    const json = await runSqsd(["--config", configPath, "schedules", "--json"], { cwd: ws.dir });
    assert.equal(json.code, 0, json.stderr);
    const rows = (JSON.parse(json.stdout) as { schedules: { name: string; queue: string; nextRunsUtc: string[] }[] })
      .schedules;
    assert.deepEqual(
      rows.map((row) => [row.name, row.queue, row.nextRunsUtc.length]),
      [
        ["nightly", "shop__outbox", 3],
        ["often", "shop__ok", 3],
      ],
    );
    const often = rows[1]!.nextRunsUtc.map((tick) => Date.parse(tick));
    assert.deepEqual([often[1]! - often[0]!, often[2]! - often[1]!], [10_000, 10_000]);
  });

  it("refuses an unknown queue, an invalid expression and an unknown zone with exit 2 and the field path", async () => {
    const cases: [unknown, RegExp][] = [
      [
        { name: "a", cron: "* * * * *", queue: "nope" },
        /schedules\[0\]\.queue must be a registered queue \(ok, outbox\), got "nope"/,
      ],
      [
        { name: "a", cron: "* * * 13 *", queue: "ok" },
        /schedules\[0\]\.cron is not a valid cron expression: .*, got "\* \* \* 13 \*"/,
      ],
      [
        { name: "a", cron: "* * * * *", queue: "ok", timezone: "Europe/Atlantis" },
        /schedules\[0\]\.timezone must be an IANA/,
      ],
    ];
    for (const [schedule, expected] of cases) {
      const configPath = config([schedule]);
      for (const args of [["run"], ["schedules"]]) {
        const result = await runSqsd(["--config", configPath, ...args], { cwd: ws.dir });
        assert.equal(result.code, 2, `${args[0]}: ${result.stderr}`);
        assert.match(result.stderr, expected, args[0]);
      }
    }
  });
});
