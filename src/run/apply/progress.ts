import type { PlanStep } from '../../model/remediation/plan.js';
import { formatBytes } from '../../text/bytes.js';
import { plain } from '../../text/escape.js';
import { freedText, type AppliedStep, type ApplyTier, type StopReason } from '../../model/remediation/applied.js';

/** What the apply loop tells a person at a terminal as it goes (never part of the report). */
export type ApplyEvent =
  | { kind: 'measuring'; budgetMs: number }
  | {
      kind: 'measured';
      mountpoint: string;
      usedBytes: number;
      capacityBytes: number;
      targetPct: number;
      steps: number;
      maxTier: ApplyTier;
    }
  | { kind: 'step'; index: number; total: number; step: PlanStep }
  | { kind: 'step-done'; step: AppliedStep; capacityBytes: number }
  | { kind: 'stopped'; stopped: StopReason; notRun: number; detail: string | null };

const STOPPED: Record<StopReason, string> = {
  'target-reached': 'at the target',
  'already-below-target': 'already at the target, nothing to run',
  'steps-exhausted': 'every step up to the tier ran',
  deadline: 'the budget ran out',
  'measure-failed': 'statfs failed',
  'no-plan': 'no plan',
};

const pct = (used: number, capacity: number) => (capacity > 0 ? Math.ceil((used * 100) / capacity) : 0);
const steps = (n: number) => `${n} step${n === 1 ? '' : 's'}`;

/**
 * One event as terminal text. A step's line is written when it starts and
 * finished when it ends, so a long step shows what it is doing. Plain text
 * (no control characters: names come from the system), no markdown.
 */
export function progressText(e: ApplyEvent): string {
  const b = formatBytes;
  switch (e.kind) {
    case 'measuring':
      return `remediate --apply: measuring and planning (at most ${seconds(e.budgetMs)})\n`;
    case 'measured':
      return `remediate --apply: ${plain(e.mountpoint, 200)} ${pct(e.usedBytes, e.capacityBytes)}% used (${b(e.usedBytes)} of ${b(e.capacityBytes)}), target ${e.targetPct}%; ${steps(e.steps)} up to --max-tier ${e.maxTier}\n`;
    case 'step':
      return `[${e.index}/${e.total}] ${e.step.tier}: ${plain(e.step.title, 120)} (expected ${b(e.step.expectedBytes)}) … `;
    case 'step-done': {
      const s = e.step;
      if (s.problem) return `failed: ${plain(s.problem, 200)} (${seconds(s.durationMs)})\n`;
      const now = s.usedAfterBytes === null ? 'use now unknown' : `now ${pct(s.usedAfterBytes, e.capacityBytes)}% used`;
      return `${s.measuredBytes === null ? 'freed ?' : freedText(s.measuredBytes)} (statfs), ${now} (${seconds(s.durationMs)})\n`;
    }
    case 'stopped':
      return `remediate --apply: ${STOPPED[e.stopped]}${e.notRun ? `; ${steps(e.notRun)} not run` : ''}${e.detail ? ` (${plain(e.detail, 200)})` : ''}\n`;
  }
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
