import { setTimeout as sleep } from 'node:timers/promises';
import { errorMessage, TimeoutError } from '../model/errors.js';
import type { DeleteOutcome } from '../model/remediation/applied.js';
import { stillPlanned, type Inspected, type Recheck } from '../model/remediation/recheck.js';
import { parseSystemDf } from '../parse/docker-df.js';
import { apiAtLeast } from '../parse/docker-engine.js';
import type { DockerEndpoint } from '../parse/docker-host.js';
import { containerNow, imageNow, recordNow } from '../parse/docker-recheck.js';
import { dockerGet, dockerRequest } from '../host/docker-api.js';
import { formatDuration } from '../text/duration.js';

/*
 * The inspect calls around a deletion: before it, the object must still meet
 * the plan's reason (stillPlanned); after a call that got no answer in time,
 * whether the daemon finished it anyway.
 */

type Look = { kind: 'there'; json: unknown } | { kind: 'gone' } | { kind: 'error'; detail: string };

const result = (r: DeleteOutcome['result'], detail: string | null): DeleteOutcome => ({
  result: r,
  detail,
  reclaimedBytes: null,
});

async function look(endpoint: DockerEndpoint, path: string, timeoutMs: number): Promise<Look> {
  try {
    const a = await dockerRequest(endpoint, 'GET', path, timeoutMs);
    if (a.status === 404) return { kind: 'gone' };
    if (a.status >= 400 || a.json === undefined) return { kind: 'error', detail: `HTTP ${a.status}: ${a.message}` };
    return { kind: 'there', json: a.json };
  } catch (err) {
    return {
      kind: 'error',
      detail: err instanceof TimeoutError ? `no answer in ${formatDuration(timeoutMs)}` : errorMessage(err),
    };
  }
}

/** null: still what the plan saw, delete it; else what to report instead of deleting. */
function verdict(recheck: Recheck, now: Inspected): DeleteOutcome | null {
  const v = stillPlanned(recheck, now, Date.now());
  return v.ok ? null : { ...result('kept', v.changed), changed: true };
}

const notChecked = (detail: string) => result('failed', `not deleted: the re-check failed (${detail})`);

/** GET /containers/{id}/json right before its DELETE. */
export async function recheckContainer(
  endpoint: DockerEndpoint,
  api: string,
  id: string,
  recheck: Recheck,
  timeoutMs: number,
): Promise<DeleteOutcome | null> {
  const c = await look(endpoint, `/v${api}/containers/${encodeURIComponent(id)}/json`, timeoutMs);
  if (c.kind === 'gone') return result('gone', 'no such container (404 on inspect)');
  if (c.kind === 'error') return notChecked(c.detail);
  return verdict(recheck, containerNow(c.json));
}

/** GET /images/{id}/json and one container listing (who uses it) right before its DELETE. */
export async function recheckImage(
  endpoint: DockerEndpoint,
  api: string,
  id: string,
  recheck: Recheck,
  timeoutMs: number,
): Promise<DeleteOutcome | null> {
  // Both calls within the one wait the step gave: the second gets what the first left.
  const until = Date.now() + timeoutMs;
  const i = await look(endpoint, `/v${api}/images/${encodeURIComponent(id)}/json`, timeoutMs);
  if (i.kind === 'gone') return result('gone', 'no such image (404 on inspect)');
  if (i.kind === 'error') return notChecked(i.detail);
  // Every container, stopped ones too (the daemon refuses to delete an image any container uses); the ancestor
  // filter keeps the answer small on a big host, and imageNow() counts only exact users, not a child image's.
  const ancestor = encodeURIComponent(JSON.stringify({ ancestor: [id] }));
  const users = await look(
    endpoint,
    `/v${api}/containers/json?all=1&filters=${ancestor}`,
    Math.max(1, until - Date.now()),
  );
  if (users.kind !== 'there')
    return notChecked(users.kind === 'gone' ? 'the container listing answered 404' : users.detail);
  return verdict(recheck, imageNow(i.json, users.json));
}

/** The build cache as /system/df lists it: only that part where the API can limit the work (1.42+); items need verbose from 1.52. */
export function buildCachePath(api: string): string {
  return apiAtLeast(api, '1.42') ? `/v${api}/system/df?type=build-cache&verbose=1` : `/v${api}/system/df`;
}

/**
 * One /system/df for a batch of records right before their prune: those
 * still idle as planned go on (`go`); the others get their outcome.
 */
export async function recheckRecords(
  endpoint: DockerEndpoint,
  api: string,
  ids: readonly string[],
  recheck: Recheck,
  timeoutMs: number,
): Promise<{ go: string[]; outcomes: Map<string, DeleteOutcome> }> {
  const outcomes = new Map<string, DeleteOutcome>();
  let listed: Map<string, Inspected>;
  try {
    const df = parseSystemDf(await dockerGet(endpoint, buildCachePath(api), timeoutMs));
    listed = new Map(df.buildCache.map((r) => [r.id, recordNow(r)]));
  } catch (err) {
    const why = notChecked(
      err instanceof TimeoutError ? `no answer in ${formatDuration(timeoutMs)}` : errorMessage(err),
    );
    for (const id of ids) outcomes.set(id, why);
    return { go: [], outcomes };
  }
  const go: string[] = [];
  for (const id of ids) {
    const now = listed.get(id);
    const out = now === undefined ? result('gone', 'no longer listed by /system/df') : verdict(recheck, now);
    if (out) outcomes.set(id, out);
    else go.push(id);
  }
  return { go, outcomes };
}

/** What the check after a timeout may take: the removal of a big layer ends within it, or is said to be still running. */
const AFTER_TIMEOUT_MS = 1000;
const POLL_MS = 100;

/**
 * After a DELETE that got no answer in `waitedMs`: inspect it (404: the
 * daemon finished it after the wait); a container the daemon is still
 * removing is looked at again within AFTER_TIMEOUT_MS.
 */
export async function checkAfterTimeout(
  endpoint: DockerEndpoint,
  inspectPath: string,
  waitedMs: number,
): Promise<DeleteOutcome> {
  const waited = `no answer in ${formatDuration(waitedMs)}`;
  const until = Date.now() + AFTER_TIMEOUT_MS;
  for (;;) {
    const a = await look(endpoint, inspectPath, Math.max(1, until - Date.now()));
    if (a.kind === 'gone') return result('removed', 'the daemon finished it after the wait');
    if (a.kind === 'error')
      return result('failed', `${waited}, and the check after it failed (${a.detail}); the daemon may still finish it`);
    // Sample: `"State": {"Status": "removing", …}` while the daemon deletes a container's layers.
    const removing = (a.json as { State?: { Status?: unknown } } | null)?.State?.Status === 'removing';
    if (!removing || Date.now() + POLL_MS >= until)
      return result(
        'failed',
        `${waited}; ${removing ? 'still being removed' : 'still there'} after it${removing ? ' (the daemon may still finish it)' : ''}`,
      );
    await sleep(POLL_MS);
  }
}

/**
 * After a /build/prune that got no answer in `waitedMs`: one listing of the
 * build cache (within AFTER_TIMEOUT_MS); a record no longer listed was
 * pruned after all, one still listed was not (yet).
 */
export async function recordsAfterTimeout(
  endpoint: DockerEndpoint,
  api: string,
  ids: readonly string[],
  waitedMs: number,
): Promise<Map<string, DeleteOutcome>> {
  const waited = `no answer in ${formatDuration(waitedMs)}`;
  try {
    const listed = new Set(
      parseSystemDf(await dockerGet(endpoint, buildCachePath(api), AFTER_TIMEOUT_MS)).buildCache.map((r) => r.id),
    );
    return new Map(
      ids.map((id) => [
        id,
        listed.has(id)
          ? result('failed', `${waited}; still listed after it (the daemon may still finish it)`)
          : result('removed', 'BuildKit finished it after the wait'),
      ]),
    );
  } catch (err) {
    const why = result(
      'failed',
      `${waited}, and the check after it failed (${errorMessage(err)}); the daemon may still finish it`,
    );
    return new Map(ids.map((id) => [id, why]));
  }
}
