/**
 * Code-unit order for names and ids, the tie-breaker of every sorted list:
 * the daemon lists volumes and images in map order, which changes between
 * calls, and the same state must print the same report. Not localeCompare:
 * its order depends on the locale the supervisor happens to run under.
 */
export function byText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
