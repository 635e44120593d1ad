import { fnv1a64 } from '../parse/bbolt.js';
import { shellQuote } from '../text/escape.js';
import type { StepKind } from './remediation/plan.js';

/*
 * What names a vault action and how it reaches the host. Pure. The host's
 * dispatcher skips any id that already has a `<id>.result.json`, so an id
 * is made per streak of a condition and per set of objects, never per
 * condition: a condition that comes back gets a new one. The vault item's
 * slug is what stays stable.
 */

export const ACTION_FORMULA = 'storage-remediation';

/**
 * The steps the runner can carry out: it has the Docker socket and the ops
 * repo, read-only, and nothing of the host's filesystem. Orphan layers need
 * the daemon stopped and the data root; bounding logs recreates containers
 * from their definitions: those stay a person's, on the Docker host.
 */
export const RUNNER_STEPS: ReadonlySet<StepKind> = new Set(['remove-volumes']);

/**
 * `storage-disk-space-var-lib-docker-remove-volumes-20261206t181131z-3f9a1c`:
 * safe (`^[a-z0-9-]+$`); the same while the condition holds (its streak's
 * first run) with the same objects, so a run every 20 minutes proposes one
 * action, not one per run; new when the condition comes back or the objects
 * change, so the dispatcher (which skips an id it has a result for) runs it.
 */
export function actionId(slug: string, kind: StepKind, since: Date, objectIds: readonly string[]): string {
  const stamp = since.toISOString().slice(0, 19).replace(/[-:]/g, '').toLowerCase();
  const objects = fnv1a64(Buffer.from([...objectIds].sort().join('\n')))
    .toString(16)
    .padStart(16, '0')
    .slice(0, 6);
  return `${slug}-${kind}-${stamp}z-${objects}`;
}

/**
 * The host's one way in for an action: `vault_request` opens the pull
 * request `vault: <id>` on the ops repo. Run in the agents container, where
 * FACTORY_ROOT and the forge settings are; the id and file go in as
 * arguments, so no name is read as shell.
 */
export function submitCommand(id: string, file: string): string {
  const lib = (name: string) => `source "$FACTORY_ROOT/lib/${name}.sh"`;
  const script = [lib('env'), lib('pr-lifecycle'), lib('action-vault'), 'vault_request "$1" "$(cat "$2")"'].join(
    ' && ',
  );
  return `bash -c '${script}' _ ${shellQuote(id)} ${shellQuote(file)}`;
}
