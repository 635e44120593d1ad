import { observedFor, type ActiveEscalation, type Observed } from './history.js';
import type { EscalationKind } from './escalation.js';

/*
 * Which escalated conditions a run may call cleared. The alerts' rule: only
 * a run that looked where the condition lives and did not find it. A stuck
 * mount, a `--path` left out, a cut-short assessment: not seen, so neither
 * cleared nor confirmed, and the condition stands as it was.
 */

/** The finding whose absence a run must have been able to see. */
const WATCHED_BY: Record<EscalationKind, string> = {
  'disk-space': 'disk-high',
  'btrfs-metadata': 'btrfs-metadata-enospc',
};

export function conditionObserved(c: Pick<ActiveEscalation, 'kind' | 'mountpoint'>, o: Observed): boolean {
  return observedFor({ name: WATCHED_BY[c.kind], mountpoint: c.mountpoint }, o);
}

export interface Settled {
  /** Held before, looked at this run and gone: their items are marked resolved. */
  resolved: ActiveEscalation[];
  /** Held before, not looked at this run: their items stay exactly as they are. */
  unobserved: ActiveEscalation[];
  /** What the history keeps as holding after this run. */
  active: ActiveEscalation[];
}

/** Pure: the conditions held before, this run's, and what it observed → what to resolve and what still stands. */
export function settleEscalations(
  previous: readonly ActiveEscalation[],
  current: readonly ActiveEscalation[],
  observed: Observed,
): Settled {
  const gone = previous.filter((p) => !current.some((c) => c.slug === p.slug));
  const resolved = gone.filter((p) => conditionObserved(p, observed));
  const unobserved = gone.filter((p) => !conditionObserved(p, observed));
  const active = [...current, ...unobserved].map(({ slug, kind, mountpoint }) => ({ slug, kind, mountpoint }));
  return { resolved, unobserved, active };
}
