import type { DockerEndpoint } from '../parse/docker-host.js';
import { callTimeout } from '../host/deadline.js';
import { mapLimit } from '../host/map-limit.js';
import { dockerGet } from '../host/docker-api.js';

/** Bounded: a host with thousands of stopped containers gets the newest answers it can in time. */
const MAX_INSPECTS = 200;
const INSPECT_TIMEOUT_MS = 2000;

/**
 * When each stopped container exited (`State.FinishedAt`, ms): neither
 * /system/df nor /containers/json say it, and the prune API's `until` is the
 * creation time. A container whose inspect fails or times out is left out
 * (the plan then keeps it).
 */
export async function getExitTimes(
  endpoint: DockerEndpoint,
  apiVersion: string,
  ids: readonly string[],
  deadline: number,
): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const answers = await mapLimit(ids.slice(0, MAX_INSPECTS), 8, deadline, (id) =>
    dockerGet(
      endpoint,
      `/v${apiVersion}/containers/${encodeURIComponent(id)}/json`,
      callTimeout(deadline, INSPECT_TIMEOUT_MS),
    ),
  );
  answers.forEach((body, i) => {
    const finished = (body as { State?: { FinishedAt?: unknown } } | undefined)?.State?.FinishedAt;
    // Sample: `"FinishedAt": "2026-11-25T04:12:09.418329811Z"`; never-started containers say `0001-01-01T00:00:00Z`.
    const at = typeof finished === 'string' ? Date.parse(finished) : NaN;
    if (Number.isFinite(at) && at > 0) out.set(ids[i]!, at);
  });
  return out;
}
