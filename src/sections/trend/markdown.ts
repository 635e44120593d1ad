import { formatBytes } from '../../text/bytes.js';
import { formatDuration } from '../../text/duration.js';
import { inline } from '../../text/escape.js';
import { table } from '../../render/table.js';
import { growingText } from '../../render/growing-objects.js';
import { needsText, type Needs, type TrendData, type WindowName } from '../../model/trend/assess.js';
import { byText } from '../../text/order.js';

/** An absent figure says what history it waits for, so "—" never reads as "no growth". */
const absent = (needs: Needs | null) => (needs ? `— (${needsText(needs)})` : '—');

function rate(bytesPerHour: number | null, needs: Needs | null = null): string {
  if (bytesPerHour === null) return absent(needs);
  return `${bytesPerHour >= 0 ? '+' : '-'}${formatBytes(Math.abs(Math.round(bytesPerHour)))}/h`;
}

const WINDOW_NAMES: WindowName[] = ['1h', '24h', '7d'];
/** Markdown stays small on a host with hundreds of mounts; JSON lists them all. */
const MAX_ROWS = 10;
const MAX_STREAKS = 5;
const MAX_ALERTS = 12;
const MAX_REMEDIATIONS = 5;

/** Filling soonest first, then fullest; ties by mountpoint, so the same state prints the same table. */
function byUrgency(rows: readonly TrendData['filesystems'][number][]) {
  return [...rows].sort(
    (a, b) =>
      (a.timeToFullMs ?? Infinity) - (b.timeToFullMs ?? Infinity) ||
      (b.usedPct ?? -1) - (a.usedPct ?? -1) ||
      byText(a.mountpoint, b.mountpoint),
  );
}

export function trendMarkdown(d: TrendData): string[] {
  const lines = [
    `From ${d.entries} journal entries in ${d.files} day files${d.unreadable ? ` (${d.unreadable} unreadable records skipped)` : ''}.`,
  ];
  if (d.entries < 2) {
    lines.push(
      'Not enough history yet for rates: a rate needs 3 runs spanning half its window, a forecast 3 runs over 30 minutes (one run every 20 minutes gives both after three runs).',
    );
  }
  const shown = byUrgency(d.filesystems);
  lines.push(
    ...table(
      ['Mount', 'Used', 'Growth 1 h', '24 h', '7 d', 'Full in', 'Used % last 24 h'],
      shown
        .slice(0, MAX_ROWS)
        .map((f) => [
          inline(f.mountpoint),
          f.usedPct === null ? '—' : `${Number(f.usedPct)}%`,
          ...WINDOW_NAMES.map((w) => rate(f.bytesPerHour[w], f.rateNeeds[w])),
          f.timeToFullMs === null
            ? f.forecastWindow
              ? 'not filling'
              : absent(f.forecastNeeds)
            : `${formatDuration(f.timeToFullMs)} (${f.forecastWindow} fit)`,
          f.sparkline24h,
        ]),
    ),
  );
  if (shown.length > MAX_ROWS)
    lines.push(`… and ${shown.length - MAX_ROWS} more filesystems, none filling sooner (see --format json)`);
  const growing = d.sources
    .filter((s) => (s.bytesPerHour['24h'] ?? 0) > 0)
    .sort((a, b) => (b.bytesPerHour['24h'] ?? 0) - (a.bytesPerHour['24h'] ?? 0) || byText(a.kind, b.kind))
    .slice(0, 4);
  if (growing.length)
    lines.push(
      `Growing sources (24 h fit): ${growing.map((s) => `${inline(s.kind)} ${rate(s.bytesPerHour['24h'])}`).join(', ')}.`,
    );
  // Only trusted, material growth is named (model/trend/objects.ts): a blip or a trickle is no culprit.
  if (d.growingObjects.length) lines.push(`Growing objects: ${d.growingObjects.map(growingText).join('; ')}.`);
  const streaks = shown.filter((x) => x.streakAbove >= 2);
  for (const f of streaks.slice(0, MAX_STREAKS)) {
    lines.push(`Streak: ${inline(f.mountpoint)} above the threshold for ${f.streakAbove} consecutive runs.`);
  }
  if (streaks.length > MAX_STREAKS)
    lines.push(`… and ${streaks.length - MAX_STREAKS} more filesystems above the threshold.`);
  const alerts = d.alerts.map((a) => {
    switch (a.state) {
      case 'recovered':
        return `${inline(a.key)} recovered`;
      case 'unobserved':
        return `${inline(a.key)} not observed this run (firing when last looked at)`;
      case 'ongoing':
        return `${inline(a.key)} ongoing since ${new Date(a.since).toISOString().slice(11, 16)} UTC (${a.runs} runs)`;
      default:
        return `${inline(a.key)} new`;
    }
  });
  const more = alerts.length > MAX_ALERTS ? `; … and ${alerts.length - MAX_ALERTS} more` : '';
  lines.push(`Alerts: ${alerts.length ? alerts.slice(0, MAX_ALERTS).join('; ') + more : 'none'}.`);
  if (d.remediations.length) {
    // Applied steps explain a fall in the used bytes that no source's rate shows.
    const total = d.remediations.reduce((a, r) => a + r.reclaimedBytes, 0);
    const latest = d.remediations
      .slice(-MAX_REMEDIATIONS)
      .map(
        (r) => `${r.at.slice(0, 10)} ${r.at.slice(11, 16)} UTC ${inline(r.action)} ${formatBytes(r.reclaimedBytes)}`,
      );
    const earlier =
      d.remediations.length > MAX_REMEDIATIONS ? ` (latest ${MAX_REMEDIATIONS} of ${d.remediations.length})` : '';
    lines.push(`Clean-up applied in 7 d: ${formatBytes(total)} freed (statfs)${earlier}: ${latest.join('; ')}.`);
  }
  const days = [...new Set(d.churnByDay.map((c) => c.day))].slice(-7);
  if (days.length) {
    const perDay = days.map(
      (day) =>
        `${inline(day)}: ${d.churnByDay
          .filter((c) => c.day === day)
          .slice(0, 3)
          .map(
            (c) =>
              `${inline(c.repository)} ${Number(c.builds24h)} builds/24 h, ${Number(c.danglingVersions)} old versions`,
          )
          .join(', ')}`,
    );
    lines.push(`Rebuild churn by day: ${perDay.join('; ')}.`);
  }
  return lines;
}
