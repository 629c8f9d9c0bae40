import { receiver, redisStore } from "sqsd";
import { handle, type ChaosBody } from "./chaos-handler.js";

/**
 * The chaos run's handlers in its idempotent mode (`npm run chaos -- --idempotent`): the same handlers, each
 * message id's effect (its line in $CHAOS_EVENTS) run once through a redis-server the run starts.
 */
const idempotency = { store: redisStore({ url: process.env["CHAOS_REDIS_URL"] ?? "" }) };

export const chaosA = receiver<ChaosBody>("chaos-a", { idempotency }, handle);
export const chaosB = receiver<ChaosBody>("chaos-b", { idempotency }, handle);
export const chaosC = receiver<ChaosBody>("chaos-c", { idempotency }, handle);
export const chaosD = receiver<ChaosBody>("chaos-d", { idempotency }, handle);
