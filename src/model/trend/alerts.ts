import { observedFor, type FiredFinding, type HistoryRecord } from '../history.js';
import { alertKey } from '../findings.js';

export interface AlertState {
  name: string;
  key: string;
  severity: string;
  mountpoint?: string;
  /**
   * new / ongoing: fired this run; recovered: fired when last looked at and
   * this run looked and it did not fire (said once); unobserved: fired when
   * last looked at, and this run could not look (a cut-short run, a stuck
   * mount, a daemon that is down): neither cleared nor confirmed.
   */
  state: 'new' | 'ongoing' | 'recovered' | 'unobserved';
  /** First run of the current streak (ISO); for recovered, this run. */
  since: string;
  runs: number;
}

/** Most recent first, the latest record of `records` that looked where `f` lives. */
function lastObserving(records: readonly HistoryRecord[], f: FiredFinding, before: number): number {
  for (let i = before - 1; i >= 0; i -= 1) if (observedFor(f, records[i]!.observed)) return i;
  return -1;
}

/** One alert in three tiers: the rank of each. */
const DISK_TIERS: Record<string, number> = { 'disk-warning': 0, 'disk-high': 1, 'disk-critical': 2 };

const firedIn = (r: HistoryRecord, key: string) => r.fired.find((x) => alertKey(x) === key);

/**
 * Alert keys that were firing when last looked at, before record `before`
 * (exclusive): what hysteresis holds, and what may recover.
 */
export function activeAlerts(records: readonly HistoryRecord[], before = records.length): FiredFinding[] {
  const seen = new Set<string>();
  const out: FiredFinding[] = [];
  for (let i = before - 1; i >= 0; i -= 1) {
    for (const f of records[i]!.fired) {
      const key = alertKey(f);
      if (seen.has(key)) continue;
      seen.add(key);
      // Firing here, and no later record looked at it without it firing.
      if (lastObserving(records, f, before) === i) out.push(f);
    }
  }
  return out;
}

/**
 * Alert state of the latest record against the ones before it. Records that
 * did not look where a finding lives neither break nor extend its streak, and
 * never make it "recovered": only a run that looked and found it gone does.
 */
export function alertStates(records: readonly HistoryRecord[]): AlertState[] {
  const latest = records[records.length - 1];
  if (!latest) return [];
  const last = records.length - 1;
  const out: AlertState[] = [];
  for (const f of latest.fired) {
    const key = alertKey(f);
    let first = last;
    let runs = 1;
    for (
      let i = lastObserving(records, f, last);
      i >= 0 && firedIn(records[i]!, key);
      i = lastObserving(records, f, i)
    ) {
      first = i;
      runs += 1;
    }
    out.push({ ...base(f), state: runs > 1 ? 'ongoing' : 'new', since: records[first]!.at, runs });
  }
  const now = new Set(latest.fired.map(alertKey));
  for (const f of activeAlerts(records, last)) {
    if (now.has(alertKey(f))) continue;
    // disk-warning giving way to disk-high on the same mount is a disk getting worse, not a recovery.
    if (
      latest.fired.some(
        (x) => x.mountpoint === f.mountpoint && (DISK_TIERS[x.name] ?? -1) > (DISK_TIERS[f.name] ?? Infinity),
      )
    )
      continue;
    const looked = observedFor(f, latest.observed);
    out.push({ ...base(f), state: looked ? 'recovered' : 'unobserved', since: latest.at, runs: 0 });
  }
  return out;
}

function base(f: FiredFinding) {
  return {
    name: f.name,
    key: alertKey(f),
    severity: f.severity,
    ...(f.mountpoint === undefined ? {} : { mountpoint: f.mountpoint }),
  };
}
