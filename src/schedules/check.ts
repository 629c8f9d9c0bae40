import type { ResolvedSchedule } from "../config/schedules.js";
import { SchemaValidationError } from "../codecs/errors.js";
import { validateWithSchema } from "../codecs/schema.js";
import { ValidationError, type FieldProblem } from "../errors.js";
import { kindOfValue } from "../describe-value.js";
import type { RegisteredQueue } from "../registry/types.js";

/**
 * The checks of `schedules` that need the registry, run once the receiver modules are loaded: each schedule's
 * queue is registered, its suffix is one the queue declares (the queue `sqsd init` creates), and a fixed body
 * passes the queue's schema, so that a wrong body fails at start-up rather than at 3 a.m. Throws a
 * {@link ValidationError} naming `schedules[i].field`; returns each schedule's queue by schedule name.
 */
export async function checkSchedules(
  schedules: readonly ResolvedSchedule[],
  registered: readonly RegisteredQueue[],
  configPath: string,
): Promise<Map<string, RegisteredQueue>> {
  const problems: FieldProblem[] = [];
  const queues = new Map<string, RegisteredQueue>();
  for (const [index, schedule] of schedules.entries()) {
    const path = `schedules[${index}]`;
    const queue = registered.find((candidate) => candidate.name === schedule.queue);
    if (!queue) {
      const known = registered.map((candidate) => candidate.name).join(", ") || "none";
      problems.push({ path: `${path}.queue`, rule: `must be a registered queue (${known})`, received: schedule.queue });
      continue;
    }
    if (schedule.suffix !== undefined && !(queue.options.suffixes ?? []).includes(schedule.suffix)) {
      problems.push({
        path: `${path}.suffix`,
        rule: `must be one of the suffixes "${queue.name}" declares (${(queue.options.suffixes ?? []).join(", ") || "none"})`,
        received: schedule.suffix,
      });
    }
    if (schedule.body !== undefined && typeof schedule.body !== "function" && queue.options.schema) {
      try {
        await validateWithSchema(queue.options.schema, schedule.body, `${path}.body`);
      } catch (error) {
        if (!(error instanceof SchemaValidationError)) throw error;
        // The body is message content: its kind is shown, never its value.
        problems.push({
          path: `${path}.body`,
          rule: `must pass the schema of "${queue.name}" (${error.issues.map((issue) => `${issue.reason} at ${issue.path}`).join("; ")})`,
          received: undefined,
          hidden: kindOfValue(schedule.body),
        });
      }
    }
    queues.set(schedule.name, queue);
  }
  if (problems.length > 0) throw new ValidationError(configPath, problems);
  return queues;
}
