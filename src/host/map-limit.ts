import { remainingMs } from './deadline.js';

/**
 * Map with at most `limit` calls in flight, starting no new call once the
 * deadline has passed. Results keep input order; a failed or unstarted item
 * is undefined (callers treat it as unknown, never as zero).
 */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  deadline: number,
  fn: (item: T) => Promise<R>,
): Promise<(R | undefined)[]> {
  const results: (R | undefined)[] = new Array(items.length).fill(undefined);
  let next = 0;
  const worker = async () => {
    while (next < items.length && remainingMs(deadline) > 0) {
      const index = next;
      next += 1;
      try {
        results[index] = await fn(items[index]!);
      } catch {
        results[index] = undefined;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
