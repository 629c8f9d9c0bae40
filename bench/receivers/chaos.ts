import { receiver } from "sqsd";
import { handle, type ChaosBody } from "./chaos-handler.js";

export const chaosA = receiver<ChaosBody>("chaos-a", handle);
export const chaosB = receiver<ChaosBody>("chaos-b", handle);
export const chaosC = receiver<ChaosBody>("chaos-c", handle);
export const chaosD = receiver<ChaosBody>("chaos-d", handle);
