import { repositoryOf, UNKNOWN_REPOSITORY } from './churn.js';
import { isDangling, uniqueOf, type DockerStorage } from './docker-storage.js';
import { topObjects, type ObjectFigures } from './history-objects.js';

/**
 * Pure: the biggest objects of each kind from what the run already fetched
 * (/system/df, the logs listing); no call of its own. A kind whose sizes
 * this run did not get is left out (unknown), never recorded as empty.
 */
export function objectFiguresOf(d: DockerStorage | null | undefined): ObjectFigures | undefined {
  const df = d?.df;
  if (!d || !df) return d?.logs.visible ? { log: logFigures(d) } : undefined;
  const out: ObjectFigures = {};
  // Sizes of -1 are the daemon's "not computed": no figure.
  if (d.volumes)
    out.volume = topObjects(df.volumes.filter((v) => v.size >= 0).map((v) => ({ name: v.name, bytes: v.size })));
  if (d.containers)
    out.container = topObjects(df.containers.map((c) => ({ name: c.name || c.id.slice(0, 12), bytes: c.sizeRw })));
  if (d.logs.visible) out.log = logFigures(d);
  if (d.images)
    out.image = topObjects(
      df.images.map((i) => ({
        // A dangling image is an old version of its repository: its bytes are that repository's growth.
        name: isDangling(i) ? (d.danglingRepository[i.id] ?? UNKNOWN_REPOSITORY) : repositoryOf(i.repoTags[0]!),
        bytes: uniqueOf(i),
      })),
    );
  if (d.buildCache)
    out['build-cache'] = topObjects(Object.entries(d.buildCache.byType).map(([name, bytes]) => ({ name, bytes })));
  return out;
}

function logFigures(d: DockerStorage): [string, number][] {
  return topObjects(d.logs.entries.map((e) => ({ name: e.name, bytes: e.bytes })));
}
