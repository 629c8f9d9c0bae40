/**
 * Maps `items` through `fn` with at most `limit` calls under way at once, and resolves with the results in
 * the items' order. Rejects with the first failure (calls already under way finish; no new one starts).
 *
 * Start-up and status reads make a request per queue: with a thousand queues, sent all at once they would
 * wait for sockets longer than the SDK's connection timeout and fail, though SQS itself was fine.
 */
export async function mapWithConcurrency<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const index = next++;
      try {
        results[index] = await fn(items[index]!, index);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}
