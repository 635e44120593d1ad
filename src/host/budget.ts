/**
 * How the run budget is split. Each reserve is a share of the budget, capped
 * at the fixed figure that suits the default 60 s: fixed reserves alone ate
 * all of `--budget 1`, and a healthy /system/df got 1 ms.
 */

/** Kept back from the whole budget for rendering and writing the report. */
export function renderReserveMs(budgetMs: number): number {
  return Math.round(Math.min(300, budgetMs * 0.1));
}

/** Kept back for each later phase, so a hung probe cannot leave Storage Pressure without time. */
export function phaseReserveMs(remainingMs: number): number {
  return Math.round(Math.min(2000, Math.max(50, remainingMs * 0.05)));
}

/**
 * Kept back from /system/df's deadline for the cheap listings, logs, churn
 * and last measured sizes that follow it. 15% lost the whole Docker section
 * when the walk ran out on a loaded 2-core host with a 6 s budget.
 */
export function dfReserveMs(remainingMs: number): number {
  return Math.round(Math.min(1500, remainingMs * 0.3));
}

/** The most image-history look-ups (rebuild churn, cache misses) may add to a run: a cold cache costs a run at most this. */
export function churnLookupMs(budgetMs: number): number {
  return Math.round(Math.min(1000, budgetMs * 0.05));
}
