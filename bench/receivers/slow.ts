import { receiver } from "sqsd";

/** Takes 200 ms a message: a deep backlog that drains slowly, for the memory bench. */
export const slowJob = receiver("memory-backlog", { codec: "raw" }, async () => {
  await new Promise((resolve) => setTimeout(resolve, 200));
});
