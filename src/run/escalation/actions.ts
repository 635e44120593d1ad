import { writeVaultFile } from '../../sinks/vault.js';
import { errorMessage } from '../../model/errors.js';
import type { Escalation } from '../../model/escalation.js';
import type { PlanStep } from '../../model/remediation/plan.js';
import type { Runner } from '../../host/exec.js';
import { plain } from '../../text/escape.js';
import { ACTION_FORMULA, actionId, RUNNER_STEPS, submitCommand } from '../../model/vault-action.js';

/*
 * A destructive step a runner could carry out once a person approved it, as
 * an action TOML in the host's schema: `id, formula, context, secrets`, and
 * optional `mounts, model, tools, timeout_minutes, dispatch_mode,
 * blast_radius`; no other key. It is a payload for the host's pull-request
 * flow (`--vault-actions DIR`), never a file in the pending folder. Only
 * the steps the runner can carry out get one (RUNNER_STEPS).
 */

export { ACTION_FORMULA };
const REQUIRED = ['id', 'formula', 'context', 'secrets'] as const;
const OPTIONAL = new Set(['mounts', 'model', 'tools', 'timeout_minutes', 'dispatch_mode', 'blast_radius']);

/** Volumes hold data; the orphan and log steps stop the daemon or a service. */
const BLAST: Partial<Record<PlanStep['kind'], 'low' | 'medium' | 'high'>> = {
  'remove-volumes': 'high',
  'remove-btrfs-orphans': 'medium',
  'remove-overlay2-orphans': 'medium',
  'bound-logs': 'medium',
};

export function actionDocument(e: Escalation, step: PlanStep, itemFile: string, since: Date): Record<string, unknown> {
  const objects = step.objects.map((o) => plain(o.id, 200));
  return {
    id: actionId(
      e.slug,
      step.kind,
      since,
      step.objects.map((o) => o.id),
    ),
    formula: ACTION_FORMULA,
    context: [
      `Approved from vault item ${plain(itemFile, 300)}.`,
      `Kind: ${step.kind}`,
      `Step: ${plain(step.title, 200)} on ${plain(e.mountpoint, 200)} (${step.expectedBytes} bytes expected).`,
      `How: ${plain(step.action, 600)}`,
      `Objects (${objects.length}): ${objects.join(' ')}`,
      'Re-check each object right before acting, through the Docker socket; never force, never prune.',
    ].join('\n'),
    secrets: [],
    timeout_minutes: 30,
    blast_radius: BLAST[step.kind] ?? 'medium',
  };
}

/** Pure: a parsed action TOML → what breaks the host's schema (empty when none). */
export function actionProblems(doc: Record<string, unknown>): string[] {
  const problems: string[] = [];
  for (const k of REQUIRED) if (!(k in doc)) problems.push(`missing ${k}`);
  for (const k of Object.keys(doc))
    if (!(REQUIRED as readonly string[]).includes(k) && !OPTIONAL.has(k)) problems.push(`unknown key ${k}`);
  if (typeof doc.id !== 'string' || !/^[a-z0-9-]+$/.test(doc.id)) problems.push('id is not a safe name');
  if (doc.formula !== ACTION_FORMULA) problems.push('formula is not ours');
  if (!Array.isArray(doc.secrets)) problems.push('secrets is not a list');
  if (doc.blast_radius !== undefined && !['low', 'medium', 'high'].includes(doc.blast_radius as string))
    problems.push('blast_radius is not low, medium or high');
  return problems;
}

/** Write each approvable step's TOML into `dir`, generated with smol-toml and checked by parsing it back. */
export async function actionFiles(
  run: Runner,
  dir: string,
  e: Escalation,
  itemFile: string,
  since: Date,
  timeout: () => number,
) {
  const steps = e.approvable.filter((s) => RUNNER_STEPS.has(s.kind));
  if (steps.length === 0) return [];
  const { parse, stringify } = await import('smol-toml');
  const out: { id: string; file: string | null; problem: string | null; submit: string | null }[] = [];
  for (const step of steps) {
    const doc = actionDocument(e, step, itemFile, since);
    const id = doc.id as string;
    try {
      const text = stringify(doc);
      const problems = actionProblems(parse(text) as Record<string, unknown>);
      if (problems.length) throw new Error(`not written: ${problems.join(', ')}`);
      const w = await writeVaultFile(run, dir, `${id}.toml`, text, { mode: 'create', held: false }, timeout());
      out.push({ id, file: w.file, problem: null, submit: submitCommand(id, w.file) });
    } catch (err) {
      out.push({ id, file: null, problem: errorMessage(err), submit: null });
    }
  }
  return out;
}
