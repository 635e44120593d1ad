import { formatBytes } from '../../text/bytes.js';
import { code, inline } from '../../text/escape.js';
import { table } from '../../render/table.js';
import type { RemediationData } from '../../model/remediation/plan.js';
import { byText } from '../../text/order.js';

const MAX_NAMES = 3;

export function remediationMarkdown(d: RemediationData): string[] {
  const p = d.plan;
  if (!d.shown || !p) return [`Nothing to clean up: ${inline(d.reason ?? 'no plan', 300)}.`];
  const b = formatBytes;
  const lines = [
    p.wantBytes > 0
      ? `Target: ${inline(p.mountpoint)} below ${p.targetPct}% (now ${p.usedPct}%, ${b(p.usedBytes)} of ${b(p.capacityBytes)}): free ${b(p.wantBytes)}.`
      : `Target: ${inline(p.mountpoint)} is at ${p.usedPct}%, already below ${p.targetPct}%: steps are listed, none is needed to reach the target.`,
    `Planned: safe ${b(p.byTier.safe)}, moderate ${b(p.byTier.moderate)}, destructive (a person decides) ${b(p.byTier.destructive)}.`,
  ];
  if (p.steps.length) {
    lines.push(
      '',
      ...table(
        ['#', 'Tier', 'Step', 'Objects', 'Expected'],
        p.steps.map((s, i) => {
          const names = s.objects
            .slice(0, MAX_NAMES)
            .map((o) => inline(o.name || o.id, 60))
            .join(', ');
          const more = s.objects.length > MAX_NAMES ? ` … and ${s.objects.length - MAX_NAMES} more` : '';
          return [String(i + 1), s.tier, inline(s.title, 200), `${names}${more}` || '—', b(s.expectedBytes)];
        }),
      ),
      '',
    );
    for (const [i, s] of p.steps.entries()) lines.push(`${i + 1}. ${code(s.cli, 200)}: ${inline(s.why, 200)}.`);
  } else {
    lines.push('No step can free anything on this filesystem.');
  }
  const reachable = p.byTier.safe + p.byTier.moderate;
  if (p.wantBytes > reachable) {
    lines.push(`Short of the target by ${b(p.wantBytes - reachable)} with safe and moderate steps.`);
  }
  const why = [...p.cannotFree]
    .sort((x, y) => y.bytes - x.bytes || byText(x.reason, y.reason))
    .map((c) => `${inline(c.reason, 120)} ${b(c.bytes)}`);
  if (why.length) lines.push(`Cannot free: ${why.join('; ')}.`);
  for (const n of p.notes) lines.push(inline(n, 300));
  if (p.historyHours !== null && p.historyHours < 24 * 7)
    lines.push(`Last use of images is known from ${Math.round(p.historyHours)} h of history.`);
  lines.push(
    'Apply: `preflight remediate --apply` runs the safe steps (`--max-tier moderate` adds the moderate ones); destructive steps are never applied by this tool.',
  );
  return lines;
}
