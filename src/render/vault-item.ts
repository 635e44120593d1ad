import type { Escalation, EscalationKind, HumanStep, RunWhere } from '../model/escalation.js';
import type { StepKind } from '../model/remediation/plan.js';
import { submitCommand } from '../model/vault-action.js';
import { guardDiskFigure, markdownOfPlain, plain } from '../text/escape.js';
import { markedItem } from './vault-merge.js';

/*
 * A vault item in the host's format: `# <what is needed>`, then the five
 * non-empty sections `## What`, `## Why`, `## Unblocks`, `## Human Action`,
 * `## Factory Will Then`. Every system string in the model is already one
 * plain line; here it is escaped for markdown, commands go in fenced blocks.
 */

const md = (text: string) => markdownOfPlain(plain(text, 1200));

/** A fence longer than any backtick run inside: the command cannot close it. */
function fenced(command: string, indent: string): string {
  const text = plain(command, 1200);
  const longest = Math.max(2, ...(text.match(/`+/g) ?? []).map((r) => r.length));
  const fence = '`'.repeat(longest + 1);
  return `${indent}${fence}sh\n${indent}${text}\n${indent}${fence}`;
}

export interface ItemStamp {
  host: string;
  at: Date;
  /** When the condition was first raised (ISO), when the history knows. */
  since: string | null;
  /** The action files this filing writes (--vault-actions): each goes with this item, by its step. */
  actions?: { id: string; kind: StepKind; file: string }[];
}

const WHERE: Record<RunWhere, string> = {
  'docker-host': 'on the Docker host, as root',
  agents: 'in the agents container',
  checkout: 'in the agents container, from the storage-preflight checkout',
};

/** A person's step, then the vault action that would do the same step for them. */
function withActions(steps: readonly HumanStep[], actions: NonNullable<ItemStamp['actions']>): HumanStep[] {
  return steps.flatMap((h) => {
    const a = actions.find((x) => x.kind === h.step);
    if (!a) return [h];
    return [
      h,
      {
        text: `Or let the host's runner do that step: submit vault action ${a.id} (file ${a.file}) with the command below; merging its pull request "vault: ${a.id}" on the ops repo is the approval, and the runner re-checks each object first. This action goes with this filing only (a later update names a new one)`,
        command: submitCommand(a.id, a.file),
        where: 'agents' as const,
      },
    ];
  });
}

const utc = (iso: string) => `${iso.slice(0, 16).replace('T', ' ')} UTC`;

export function renderVaultItem(e: Escalation, stamp: ItemStamp): string {
  const lines = [
    '',
    '## What',
    ...e.facts.map((f) => `- ${md(f)}`),
    '',
    `Filed by storage-preflight on ${md(stamp.host)} (${e.slug})${stamp.since ? `, first raised ${utc(stamp.since)}` : ''}; updated ${utc(stamp.at.toISOString())}. This item is rewritten in place while the condition holds; notes a person adds at the end of the file are kept.`,
    '',
    '## Why',
    ...e.reasons.map((r) => `- ${md(r)}`),
    '',
    'Already tried:',
    ...e.tried.map((t) => `- ${md(t)}`),
    '',
    '## Unblocks',
    md(e.unblocks),
    '',
    '## Human Action',
    ...withActions(e.humanAction, stamp.actions ?? []).flatMap((a, i) => [
      `${i + 1}. ${md(a.text.replace(/[:.]$/, ''))}; run it ${WHERE[a.where]}:`,
      fenced(a.command, '   '),
    ]),
    '',
    '## Factory Will Then',
    md(e.factoryWillThen),
  ];
  return guardDiskFigure(markedItem(`# ${md(e.title)}`, lines));
}

const WHAT: Record<EscalationKind, string> = {
  'disk-space': 'free space on',
  'btrfs-metadata': 'room for btrfs metadata on',
};

/** The condition cleared: the item says so (a person archives it), with today's figures. */
export function renderResolvedItem(
  kind: EscalationKind,
  mountpoint: string,
  figures: string,
  stamp: ItemStamp,
): string {
  const where = md(mountpoint);
  const lines = [
    '',
    '## What',
    `Resolved at ${utc(stamp.at.toISOString())}: ${md(figures)}`,
    '',
    `Filed by storage-preflight on ${md(stamp.host)}${stamp.since ? `, first raised ${utc(stamp.since)}` : ''}.`,
    '',
    '## Why',
    'The condition that filed this item no longer holds: the latest run measured it and found it gone.',
    '',
    '## Unblocks',
    'Nothing is blocked by it any more.',
    '',
    '## Human Action',
    '1. None needed: reject or archive this item when convenient.',
    '',
    '## Factory Will Then',
    `Keep measuring ${where} every run, and file a new item if the condition comes back.`,
  ];
  return guardDiskFigure(markedItem(`# Resolved: ${WHAT[kind]} ${where}`, lines));
}
