import { errorMessage, TimeoutError } from '../model/errors.js';
import type { DockerEndpoint } from '../parse/docker-host.js';
import { dockerRequest, type DockerAnswer } from '../host/docker-api.js';
import type { DeleteOutcome, DeleteResult } from '../model/remediation/applied.js';
import { formatDuration } from '../text/duration.js';
import { checkAfterTimeout, recordsAfterTimeout } from './docker-recheck.js';

/*
 * Deletions by id, each one call the daemon re-checks: what the plan listed
 * is all that can go, and whatever came into use since the plan is refused
 * (409) by the daemon itself. Never `force`.
 */

export type { DeleteOutcome, DeleteResult };

const outcome = (
  result: DeleteResult,
  detail: string | null = null,
  reclaimedBytes: number | null = null,
): DeleteOutcome => ({ result, detail, reclaimedBytes });

function byStatus(a: DockerAnswer, ok: () => DeleteOutcome): DeleteOutcome {
  if (a.status >= 200 && a.status < 300) return ok();
  if (a.status === 404) return outcome('gone', a.message);
  if (a.status === 409) return outcome('refused', a.message);
  return outcome('failed', `HTTP ${a.status}: ${a.message}`);
}

/** The call got no answer in time: the daemon may still have done it. */
const TIMED_OUT = Symbol('timed out');

/** `inspect`: where to look when the call got no answer in time (the daemon may still have done it). */
async function call(
  endpoint: DockerEndpoint,
  method: 'DELETE' | 'POST',
  path: string,
  timeoutMs: number,
  ok: (a: DockerAnswer) => DeleteOutcome,
  inspect?: string,
): Promise<DeleteOutcome> {
  const a = await answerOf(endpoint, method, path, timeoutMs);
  if (a === TIMED_OUT)
    return inspect
      ? checkAfterTimeout(endpoint, inspect, timeoutMs)
      : outcome('failed', `no answer in ${formatDuration(timeoutMs)} (the daemon may still finish it)`);
  return 'status' in a ? byStatus(a, () => ok(a)) : a;
}

async function answerOf(
  endpoint: DockerEndpoint,
  method: 'DELETE' | 'POST',
  path: string,
  timeoutMs: number,
): Promise<DockerAnswer | DeleteOutcome | typeof TIMED_OUT> {
  try {
    return await dockerRequest(endpoint, method, path, timeoutMs);
  } catch (err) {
    return err instanceof TimeoutError ? TIMED_OUT : outcome('failed', errorMessage(err));
  }
}

/** `DELETE /containers/{id}?v=0&force=0`: refused (409) while it runs; its anonymous volumes stay. */
export function removeContainer(
  endpoint: DockerEndpoint,
  apiVersion: string,
  id: string,
  timeoutMs: number,
): Promise<DeleteOutcome> {
  const c = `/v${apiVersion}/containers/${encodeURIComponent(id)}`;
  return call(endpoint, 'DELETE', `${c}?v=0&force=0`, timeoutMs, () => outcome('removed'), `${c}/json`);
}

/**
 * `DELETE /images/{id}?force=0&noprune=1`: refused (409) for an image a
 * container uses, or one with child images. noprune: untagged parent
 * images are not in the plan, so they stay.
 * Sample answer: `[{"Untagged":"pf-app:latest"},{"Deleted":"sha256:5f0c…"}]`.
 */
export function removeImage(
  endpoint: DockerEndpoint,
  apiVersion: string,
  id: string,
  timeoutMs: number,
): Promise<DeleteOutcome> {
  const i = `/v${apiVersion}/images/${encodeURIComponent(id)}`;
  return call(
    endpoint,
    'DELETE',
    `${i}?force=0&noprune=1`,
    timeoutMs,
    (a) => {
      const deleted = Array.isArray(a.json) && a.json.some((e) => (e as { Deleted?: unknown })?.Deleted === id);
      return deleted ? outcome('removed') : outcome('kept', 'the daemon untagged it but did not delete it');
    },
    `${i}/json`,
  );
}

/** BuildKit record ids are 25 base-36 characters; anything else is not sent into a filter. */
const RECORD_ID = /^[A-Za-z0-9]{1,128}$/;

/**
 * One `POST /build/prune` for several records. Docker (20.10 to 28) turns
 * `filters={"id":[X]}` into BuildKit's `id~=X`, an unanchored regular
 * expression, and refuses two values; so `^(a|b|c)$` names exactly these
 * (ids are checked to be alphanumeric first). Checked on 20.10: one call deleted the
 * prunable one of two and kept the other, which a third record built on.
 * Each id's outcome; the call's SpaceReclaimed goes to the first removed.
 */
export async function pruneBuildRecords(
  endpoint: DockerEndpoint,
  apiVersion: string,
  ids: readonly string[],
  timeoutMs: number,
): Promise<Map<string, DeleteOutcome>> {
  const out = new Map<string, DeleteOutcome>();
  const valid = ids.filter((id) => RECORD_ID.test(id));
  for (const id of ids) if (!valid.includes(id)) out.set(id, outcome('failed', 'not a BuildKit record id; not sent'));
  if (valid.length === 0) return out;
  const filters = encodeURIComponent(JSON.stringify({ id: [`^(${valid.join('|')})$`] }));
  const a = await answerOf(endpoint, 'POST', `/v${apiVersion}/build/prune?filters=${filters}`, timeoutMs);
  // BuildKit may go on pruning after we stopped waiting: what is no longer listed went.
  if (a === TIMED_OUT) return new Map([...out, ...(await recordsAfterTimeout(endpoint, apiVersion, valid, timeoutMs))]);
  const body =
    'status' in a ? (a.json as { CachesDeleted?: unknown; SpaceReclaimed?: unknown } | undefined) : undefined;
  const deleted: unknown[] = Array.isArray(body?.CachesDeleted) ? body.CachesDeleted : [];
  const reclaimed =
    typeof body?.SpaceReclaimed === 'number' && Number.isSafeInteger(body.SpaceReclaimed) && body.SpaceReclaimed >= 0
      ? body.SpaceReclaimed
      : null;
  const answer = 'status' in a ? byStatus(a, () => outcome('removed')) : a;
  let credited = false;
  for (const id of valid) {
    if (answer.result !== 'removed') out.set(id, answer);
    else if (deleted.includes(id)) {
      out.set(id, outcome('removed', null, credited ? 0 : reclaimed));
      credited = true;
    } else
      out.set(
        id,
        outcome(
          'kept',
          'BuildKit did not delete it (already gone, in use, shared with an image, internal, or a record not in the plan builds on it)',
          null,
        ),
      );
  }
  return out;
}
