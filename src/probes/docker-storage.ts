import type { Runner } from '../host/exec.js';
import { dockerGet, dockerRequest } from '../host/docker-api.js';
import { parseContainerStarts, type ContainerStart } from '../parse/docker-events.js';
import { recipeOf } from '../model/churn.js';
import type { DockerEndpoint } from '../parse/docker-host.js';
import { parseCliSystemDf } from '../parse/docker-cli-df.js';
import { parseSystemDf, type SystemDf } from '../parse/docker-df.js';

/*
 * The Docker storage reads: the Engine API's disk usage, its cheap lists, an
 * image's build history, and the CLI's `docker system df` when the API is out
 * of reach. Each takes its own deadline; parsing is the parsers'.
 */

/*
 * Unversioned: the daemon answers at its own API version, as the versioned
 * path from GET /version did before. API 1.52+ puts per-object Items in the
 * usage objects only with verbose; older daemons ignore the parameter.
 * From API 1.42 `type` computes only the categories named: images and build
 * cache cost the daemon little, containers' and volumes' sizes walk the disk
 * (minutes on a big host, moby#31719). Before 1.42 `type` is ignored and the
 * first call answers everything, as one call always did.
 */
const DF_CHEAP = '/system/df?type=image&type=build-cache&verbose=1';
const DF_WALKING = '/system/df?type=container&type=volume&verbose=1';

/** GET /system/df of images and build cache (everything, before API 1.42). The raw answer. */
export function getSystemDf(endpoint: DockerEndpoint, timeoutMs: number): Promise<unknown> {
  return dockerGet(endpoint, DF_CHEAP, timeoutMs);
}

/** GET /system/df of containers and volumes (API 1.42+): the call that walks every writable layer and volume. */
export function getWalkingDf(endpoint: DockerEndpoint, timeoutMs: number): Promise<unknown> {
  return dockerGet(endpoint, DF_WALKING, timeoutMs);
}

/** The volumes' names, labels and use, without sizes (GET /volumes), when their sizes did not come. */
export async function getVolumeListing(
  endpoint: DockerEndpoint,
  versioned: (p: string) => string,
  timeoutMs: number,
): Promise<unknown[]> {
  const body = await dockerGet(endpoint, versioned('/volumes'), timeoutMs);
  const volumes = (body as { Volumes?: unknown } | null)?.Volumes;
  return Array.isArray(volumes) ? volumes : [];
}

/** When /system/df fails: the lists that cost the daemon nothing, without the sizes it must compute; null when neither answered. */
export async function getCheapListing(
  endpoint: DockerEndpoint,
  versioned: (p: string) => string,
  timeoutMs: number,
): Promise<SystemDf | null> {
  const [images, containers] = await Promise.all([
    dockerGet(endpoint, versioned('/images/json'), timeoutMs).catch(() => undefined),
    dockerGet(endpoint, versioned('/containers/json?all=1'), timeoutMs).catch(() => undefined),
  ]);
  if (images === undefined && containers === undefined) return null;
  const df = parseSystemDf({ Images: images ?? [], Containers: containers ?? [] });
  return { ...df, layersSize: null };
}

/** GET /images/{id}/history → the image's build recipe; undefined when the answer is not a history. */
export async function getImageRecipe(
  endpoint: DockerEndpoint,
  prefix: string,
  imageId: string,
  timeoutMs: number,
): Promise<string[] | undefined> {
  const body = await dockerGet(endpoint, `${prefix}/images/${encodeURIComponent(imageId)}/history`, timeoutMs);
  return Array.isArray(body) ? recipeOf(body) : undefined;
}

/** `docker system df -v --format json` (CLI ≥ 23), parsed; throws with the CLI's last line when it fails. */
export async function getCliSystemDf(run: Runner, timeoutMs: number): Promise<SystemDf> {
  const res = await run('docker', ['system', 'df', '-v', '--format', 'json'], timeoutMs);
  if (res.exitCode !== 0) throw new Error(res.stderr.trim().split('\n').pop() || `exit ${res.exitCode}`);
  return parseCliSystemDf(res.stdout);
}

/** The daemon keeps its last 256 events (moby daemon/events/events.go eventsLimit): a full answer may have lost older ones. */
export const DAEMON_EVENTS_KEPT = 256;

/**
 * Containers started between two instants, from the daemon's event history
 * (GET /events with `until` ends at once). Unfiltered, so the count shows
 * when the daemon's bounded buffer may have dropped some since `sinceSec`.
 */
export async function getContainerStarts(
  endpoint: DockerEndpoint,
  prefix: string,
  sinceSec: number,
  untilSec: number,
  timeoutMs: number,
): Promise<{ starts: ContainerStart[]; mayHaveDropped: boolean }> {
  const res = await dockerRequest(endpoint, 'GET', `${prefix}/events?since=${sinceSec}&until=${untilSec}`, timeoutMs);
  if (res.status >= 400) throw new Error(`/events answered HTTP ${res.status}: ${res.message}`);
  const lines = res.body.split('\n').filter((l) => l.trim()).length;
  return { starts: parseContainerStarts(res.body), mayHaveDropped: lines >= DAEMON_EVENTS_KEPT };
}
