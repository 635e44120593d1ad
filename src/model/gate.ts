import type { Action, Finding, Severity } from './findings.js';
import type { RemediationPlan } from './remediation/plan.js';

/** The project's `direct` action: the safe apply (integrations/actions/storage-cleanup.sh). */
export const CLEANUP_SCRIPT = 'integrations/actions/storage-cleanup.sh';

/** One entry of the recipe gate's `{"fired":[…]}`: what the host reads. */
export interface FiredEntry {
  name: string;
  severity: Severity;
  evidence: string;
  action: Action;
  /** A script path the host runs as `bash "$FACTORY_ROOT/<path>" PROJECT_TOML EVIDENCE`, or empty: never a command. */
  action_script: string;
}

const DISK = new Set(['disk-warning', 'disk-high', 'disk-critical']);

/** The safe apply would do something here: free bytes above the target, or return empty btrfs chunks. */
export function safelyFixable(f: Pick<Finding, 'name' | 'mountpoint'>, plan: RemediationPlan | null): boolean {
  if (!plan || f.mountpoint !== plan.mountpoint) return false;
  const safe = plan.steps.filter((s) => s.tier === 'safe');
  if (f.name === 'btrfs-metadata-enospc') return safe.some((s) => s.kind === 'btrfs-balance-empty');
  // An operator's rule on another filesystem frees nothing on this one.
  const here = safe.filter((s) => !s.rule || s.rule.mountpoint === plan.mountpoint);
  return DISK.has(f.name) && plan.wantBytes > 0 && here.some((s) => s.expectedBytes > 0);
}

/**
 * Pure: findings and the plan → what the gate fires. The gate skips the LLM
 * when nothing fires or everything fired is `direct` with a script, so: what
 * the safe apply can fix is `direct` with our script; a disk warning it cannot
 * fix only informs (the report says it, nothing fires); the rest keeps the
 * finding's own action (llm, incident) for judgement.
 */
export function gateFindings(
  findings: readonly Finding[],
  plan: RemediationPlan | null,
  actionScript: string,
): FiredEntry[] {
  const out: FiredEntry[] = [];
  for (const f of findings) {
    const entry = { name: f.name, severity: f.severity, evidence: f.evidence };
    if (actionScript && safelyFixable(f, plan)) out.push({ ...entry, action: 'direct', action_script: actionScript });
    else if (f.name !== 'disk-warning') out.push({ ...entry, action: f.action, action_script: '' });
  }
  return out;
}
