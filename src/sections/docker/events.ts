import { callTimeout } from '../../host/deadline.js';
import type { StartedImages } from '../../model/docker-storage.js';
import { imagesStarted } from '../../model/image-use.js';
import type { DfImage } from '../../parse/docker-df.js';
import type { EngineIdentity } from '../../parse/docker-engine.js';
import { getContainerStarts } from '../../probes/docker-storage.js';
import type { SectionContext } from '../types.js';

/** The event history is a short in-memory list: it answers in milliseconds, or the daemon is in trouble. */
const EVENTS_TIMEOUT_MS = 2000;

/**
 * Images containers were started from since the last run in the history,
 * from the daemon's events; null without a last run, or when the daemon did
 * not answer in time (the images then count as they did before: by the
 * containers /system/df lists).
 */
export async function startedSinceLastRun(
  ctx: SectionContext,
  engine: EngineIdentity,
  images: readonly DfImage[],
): Promise<StartedImages | null> {
  const history = await ctx.shared.history(ctx.deadline - 200);
  const last = history.records.at(-1);
  if (!last) return null;
  const since = Math.floor(Date.parse(last.at) / 1000);
  if (!Number.isFinite(since)) return null;
  const prefix = engine.apiVersion ? `/v${engine.apiVersion}` : '';
  try {
    const { starts, mayHaveDropped } = await getContainerStarts(
      ctx.options.docker,
      prefix,
      since,
      // A past second: the daemon answers at once (an `until` still to come held the answer up to 1 s).
      // The next run starts from this run's start, so no event falls between two runs' windows.
      Math.floor(Date.now() / 1000),
      callTimeout(ctx.deadline, EVENTS_TIMEOUT_MS, 200),
    );
    return { since: last.at, imageIds: imagesStarted(starts, images), mayHaveDropped };
  } catch {
    return null;
  }
}
