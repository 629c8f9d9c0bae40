/** What a scenario is, what it reports, and the one markdown table the bench prints. */
import type { BenchServer, DrainResult } from "./lib.js";

/** One line of the results table. */
export interface Row {
  /** What is measured, e.g. `msg/s, sqsd ÷ raw SDK loop`. */
  readonly measure: string;
  /** The headline figure: a ratio where one exists, e.g. `0.93×`. */
  readonly value: string;
  /** The absolute figures behind it and anything that helps read it. */
  readonly detail?: string;
  /** The target, e.g. `≥ 0.9×`; none for a figure shown for comparison only. */
  readonly target?: string;
  readonly met?: boolean;
}

/** What every scenario is given. */
export interface ScenarioContext {
  /** A fresh SQS server for this scenario; every consumer of the scenario runs against it. */
  readonly server: BenchServer;
  /** Smaller sizes and shorter windows, for a run of a few minutes. */
  readonly quick: boolean;
  /** Progress, on stderr. */
  readonly log: (line: string) => void;
}

/** One scenario: a file of its own under bench/scenarios/. */
export interface Scenario {
  /** What `--scenario` selects it by. */
  readonly name: string;
  run(context: ScenarioContext): Promise<Row[]>;
}

/** Rows of the table, each under the scenario that produced it. */
export type Results = readonly { readonly scenario: string; readonly rows: readonly Row[] }[];

/** The results as one markdown table. */
export function markdownTable(results: Results): string {
  const header = ["scenario", "measure", "result", "detail (absolute figures)", "target", "met"];
  const lines = [header, header.map(() => "---")];
  for (const { scenario, rows } of results) {
    rows.forEach((row, index) =>
      lines.push([
        index === 0 ? scenario : "",
        row.measure,
        row.value,
        row.detail ?? "",
        row.target ?? "—",
        row.met === undefined ? "—" : row.met ? "met" : "**not met**",
      ]),
    );
  }
  return lines.map((cells) => `| ${cells.map((cell) => cell.replaceAll("|", "\\|")).join(" | ")} |`).join("\n");
}

/** `a ÷ b` as `1.23×`. */
export const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}×`;

/** A rate or count with thousands separators and no decimals. */
export const whole = (value: number): string => Math.round(value).toLocaleString("en-US");

/** Milliseconds, or `—` for a sample that never arrived. */
export const ms = (value: number): string =>
  Number.isFinite(value) ? `${value.toFixed(value < 10 ? 1 : 0)} ms` : "timed out";

/** A drain's rate, marked when the consumer did not empty the queue in time (the rate then covers the limit). */
export const drainRate = (result: DrainResult): string =>
  `${whole(result.rate)}${result.finished ? "" : " (timed out)"}`;

/** CPU time per message in two drains, e.g. `CPU 0.60 vs 0.33 ms/msg`. */
export const cpuVersus = (a: DrainResult, b: DrainResult): string =>
  `CPU ${a.cpuMsPerMessage.toFixed(2)} vs ${b.cpuMsPerMessage.toFixed(2)} ms/msg`;

/** Requests per message split by action, e.g. `Receive 0.10 + DeleteBatch 0.10`. */
export function requestsByAction(result: DrainResult): string {
  return Object.entries(result.byAction)
    .filter(([, count]) => count > 0)
    .sort(([, a], [, b]) => b - a)
    .map(([action, count]) => `${action.replace("Message", "")} ${(count / Math.max(result.processed, 1)).toFixed(2)}`)
    .join(" + ");
}
