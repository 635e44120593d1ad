import { formatBytes } from '../text/bytes.js';
import { inline } from '../text/escape.js';
import { growingPlainText } from './growing-objects.js';
import type { Finding } from '../model/findings.js';
import type { AlertEvent, NotifyData, Verdict } from '../model/notify.js';
import type { ApplyResult } from '../model/remediation/applied.js';
import type { EscalationData } from '../model/escalation.js';
import type { RunResult, SectionResult, SectionView } from '../model/results.js';

/** The Notifications part: what was sent, and one line per target that did not take it. */
export function notifyMarkdown(d: NotifyData): string[] {
  if (d.message === null) return ['Notify: nothing new to send'];
  const ok = d.targets.filter((t) => t.ok).length;
  const lines = [`Notify: sent to ${ok} of ${d.targets.length} target${d.targets.length === 1 ? '' : 's'}`];
  for (const t of d.targets) if (!t.ok) lines.push(`- not sent to ${t.target}: ${inline(t.reason ?? 'failed', 200)}`);
  return lines;
}

export const NOTIFY_VIEW: SectionView<NotifyData> = {
  id: 'notify',
  title: 'Notifications',
  markdown: notifyMarkdown,
  json: (d) => ({ notify: d ?? null }),
};

/** Degraded when a target did not take the message: the run still exits 0. */
export function notifyResult(data: NotifyData, durationMs: number): SectionResult<NotifyData> {
  const failed = data.targets.filter((t) => !t.ok);
  return failed.length > 0
    ? {
        section: NOTIFY_VIEW,
        status: 'degraded',
        reason: `${failed.length} notification target(s) did not take the message`,
        data,
        durationMs,
      }
    : { section: NOTIFY_VIEW, status: 'ok', data, durationMs };
}

const hours = (ms: number) => (ms < 172_800_000 ? `${Math.round(ms / 3_600_000)}h` : `${Math.round(ms / 86_400_000)}d`);

/** The verdict a notification carries, from the run's parts (each may be missing). */
export function verdictOf(
  run: RunResult,
  host: string,
  events: readonly AlertEvent[],
  applied: ApplyResult | null,
  escalation: EscalationData | null,
): Verdict {
  const attr = run.pressure?.data?.attribution ?? null;
  // The alert's filesystem first: the attribution covers only Docker's data root's (else /).
  const filed = (escalation?.items ?? []).filter((i) => i.state === 'filed' || i.state === 'updated');
  const mount =
    events.find((e) => e.state.mountpoint)?.state.mountpoint ?? filed[0]?.mountpoint ?? attr?.mountpoint ?? null;
  const top = attr?.mountpoint === mount ? attr.sources[0] : undefined;
  const fs = run.trend?.data?.filesystems.find((f) => f.mountpoint === mount);
  const perHour = fs?.bytesPerHour['24h'] ?? null;
  const growth =
    perHour === null
      ? null
      : `${perHour >= 0 ? '+' : ''}${formatBytes(Math.round(perHour))}/h over 24h` +
        (fs?.timeToFullMs != null ? `, full in about ${hours(fs.timeToFullMs)}` : '');
  const done =
    applied && applied.steps.length > 0
      ? `clean-up freed ${formatBytes(applied.freedBytes ?? 0)}${applied.targetReached ? ' (target reached)' : ' (short of the target)'}`
      : null;
  const firing = events.some((e) => e.kind !== 'recovered');
  const findings: Finding[] = run.pressure?.data?.findings ?? [];
  const todo =
    filed.length > 0
      ? `a person must act on vault item ${filed.map((i) => `supervisor-${i.slug}.md (${i.title})`).join('; ')}`
      : firing && findings.some((f) => f.action !== 'direct')
        ? `look at ${findings.find((f) => f.action !== 'direct')!.evidence}`
        : firing && !done
          ? 'free space: `preflight remediate` shows the clean-up plan'
          : null;
  return {
    host,
    topSource:
      attr && top
        ? `${top.label} ${formatBytes(top.bytes)} of ${formatBytes(attr.usedBytes)} used on ${attr.mountpoint} (${attr.usedPct}%)`
        : null,
    growth,
    growing: (run.pressure?.data?.growingObjects ?? []).map(growingPlainText).join('; ') || null,
    done,
    todo,
  };
}
