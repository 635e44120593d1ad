import { code, guardDiskFigure, inline, markdownOfPlain, plain } from '../text/escape.js';
import type { SectionResult, SectionView } from '../model/results.js';
import { DAMAGED, itemName, type EscalationData, type ItemOutcome, type ItemState } from '../model/escalation.js';

/** The one-value line recipes read (`field_eq` on `Escalation:`): the weightiest state this run. */
const WEIGHT: ItemState[] = ['failed', 'damaged', 'filed', 'updated', 'held', 'resolved', 'unobserved'];

export function escalationState(d: EscalationData): ItemState | 'none' {
  return WEIGHT.find((w) => d.items.some((i) => i.state === w)) ?? 'none';
}

const HELD: Record<string, string> = {
  approved: 'already approved',
  fired: 'already carried out',
  rejected: 'rejected by a person',
};

function itemLine(i: ItemOutcome): string {
  const name = itemName(i.slug);
  switch (i.state) {
    case 'filed':
      return `- filed ${name}: ${inline(i.title, 200)}`;
    case 'updated':
      return `- updated ${name}: ${inline(i.title, 200)}`;
    case 'resolved':
      return `- resolved ${name}: ${inline(i.title, 200)}`;
    case 'held':
      return `- ${name}: ${HELD[i.detail ?? ''] ?? 'moved on by a person'}, not filed again`;
    case 'unobserved':
      return `- ${name}: ${inline(i.mountpoint, 200)} not measured this run, left as it is`;
    case 'damaged':
      return `- ${name}: ${DAMAGED}: ${inline(i.detail ?? '', 200)}`;
    default:
      return `- not filed ${name}: ${inline(i.detail ?? 'unknown error', 200)}`;
  }
}

export function escalationMarkdown(d: EscalationData): string[] {
  const lines = [`Escalation: ${escalationState(d)}`];
  if (d.pending) lines.push(`Vault: ${inline(d.pending, 200)}`);
  else if (d.problem) lines.push(inline(d.problem, 200));
  lines.push(...d.items.map(itemLine));
  for (const i of d.items) {
    for (const a of i.actions)
      lines.push(
        a.problem
          ? `- action ${a.id}: ${inline(a.problem, 200)}`
          : `- action ${a.id}.toml written; submit it in the agents container with ${code(a.submit ?? '', 600)}`,
      );
  }
  if (d.items.length === 0) lines.push('Nothing needs a person.');
  return lines;
}

/** How the run's escalation prints: after everything else (it runs after the measuring and the apply). */
export const ESCALATION_VIEW: SectionView<EscalationData> = {
  id: 'escalation',
  title: 'Escalation',
  markdown: escalationMarkdown,
  json: (d) => ({ escalation: d ?? null }),
};

/** The run's escalation as a part of its result: degraded when the vault could not be written. */
export function escalationResult(data: EscalationData, durationMs: number): SectionResult<EscalationData> {
  return data.problem
    ? { section: ESCALATION_VIEW, status: 'degraded', reason: data.problem, data, durationMs }
    : { section: ESCALATION_VIEW, status: 'ok', data, durationMs };
}

/** Day-journal lines: an item filed or resolved (an update is no news: nothing). */
export function escalationJournalLines(d: EscalationData | null): string[] {
  return (d?.items ?? []).flatMap((i) => {
    if (i.state === 'filed')
      return [guardDiskFigure(`- vault: filed ${itemName(i.slug)}: ${markdownOfPlain(plain(i.title, 160))}`)];
    if (i.state === 'resolved') return [`- vault: resolved ${itemName(i.slug)}`];
    return [];
  });
}
