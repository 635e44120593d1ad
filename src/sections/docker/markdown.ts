import { isDangling, isRunning, uniqueOf, type DockerStorage } from '../../model/docker-storage.js';
import { formatBytes } from '../../text/bytes.js';
import { formatDuration } from '../../text/duration.js';
import { inline } from '../../text/escape.js';
import { table } from '../../render/table.js';
import { byText } from '../../text/order.js';
import { staleLine, type StaleKind } from '../../model/last-measured.js';

/** Items per "Largest …" list; the rest is one tail line, so the section stays small on any host. */
export const TOP_N = 5;
const NAME_MAX = 48;

export function dockerMarkdown(d: DockerStorage): string[] {
  const lines = [engineLine(d)];
  if (d.approximate)
    lines.push('Figures are approximate: from `docker system df`, which rounds to 3-4 significant digits.');
  if (d.dfProblem) lines.push(`Sizes unknown this run: ${inline(d.dfProblem)}.`);
  else if (d.walkProblem)
    lines.push(`Sizes unknown this run: ${inline(d.walkProblem)}; images and build cache are exact.`);
  const stale = staleLine(d.stale);
  if (stale) lines.push(stale);
  lines.push('', ...summaryTable(d), '');
  const orphans = overlayOrphansLine(d);
  if (orphans) lines.push(orphans);
  lines.push(...detailLines(d));
  return lines;
}

/**
 * `Orphaned overlay2 layer directories: 2, 6.0 MiB (no image or container references them; remove only with the daemon stopped): b88c19ede66a 5.0 MiB; 873874582860-init 1.0 MiB (in /var/lib/docker/overlay2).`
 * Neither /system/df nor any prune sees these bytes.
 */
function overlayOrphansLine(d: DockerStorage): string | null {
  const o = d.overlayOrphans;
  if (!o || o.dirs.length === 0) return null;
  const short = (n: string) => `${n.slice(0, 12)}${n.endsWith('-init') ? '-init' : ''}`;
  const shown = o.dirs
    .slice(0, TOP_N)
    .map((x) => `${inline(short(x.name))} ${formatBytes(x.bytes)}`)
    .join('; ');
  const notes = [
    o.unmeasured ? `${o.unmeasured} more candidates not measured this run` : '',
    o.recent ? `${o.recent} changed within the hour not counted (perhaps a layer being written)` : '',
  ]
    .filter(Boolean)
    .map((n) => `; ${n}`)
    .join('');
  const where = d.engine ? ` (in ${inline(`${d.engine.rootDir.replace(/\/+$/, '')}/overlay2`)})` : '';
  return `Orphaned overlay2 layer directories: ${o.dirs.length}, ${formatBytes(o.bytes)} (no image or container references them; remove only with the daemon stopped): ${shown}${tail(o.dirs.slice(TOP_N).map((x) => x.bytes))}${notes}${where}.`;
}

function engineLine(d: DockerStorage): string {
  const e = d.engine;
  if (!e) return `Engine: reached through the docker CLI (${inline(d.endpoint)}); driver unknown.`;
  const backing = e.backingFilesystem ? ` on ${inline(e.backingFilesystem)}` : '';
  const head = `Engine ${inline(e.version)} (API ${inline(e.apiVersion)}), `;
  if (e.imageStore !== 'containerd')
    return `${head}storage driver ${inline(e.driver)}${backing}, graph-driver image store: images, containers, build cache, logs and volumes in the data root ${inline(e.rootDir)}; log driver ${inline(e.loggingDriver || '?')}.`;
  const c = d.containerd;
  const where = c?.root
    ? `in containerd's root ${inline(c.root)} (found from ${inline(c.via ?? '?')})`
    : `in containerd's root, not found here (${inline(c?.problem ?? 'unknown')})`;
  return `${head}containerd image store (snapshotter ${inline(e.driver)}): images, containers' layers and build cache ${where}; logs, volumes and Docker's own files in the data root ${inline(e.rootDir)}; log driver ${inline(e.loggingDriver || '?')}.`;
}

function summaryTable(d: DockerStorage): string[] {
  const b = (n: number | undefined | null) => (n === undefined || n === null ? '?' : formatBytes(n));
  const rows: string[][] = [];
  const i = d.images;
  if (i) {
    rows.push([
      'Images',
      `${i.count}: ${i.inUse.count} in use, ${i.dangling.count} dangling`,
      b(i.totalBytes),
      b(i.reclaimableBytes),
      `unique ${b(i.uniqueBytes)}, shared ${b(i.sharedBytes)}; dangling ${b(i.dangling.reclaimableBytes)} (\`docker image prune\`); all unused: \`prune -a\`${i.heldByBuildCacheBytes ? `; ${b(i.heldByBuildCacheBytes)} also held by BuildKit's records (freed only with them)` : ''}`,
    ]);
  } else if (d.df) {
    rows.push(['Images', `${d.df.images.length}`, '?', '?', unknownDetail(d, 'images', 'dangling-images')]);
  }
  const c = d.containers;
  if (c) {
    rows.push([
      'Containers',
      `${c.count}: ${c.running} running, ${c.stopped} stopped`,
      b(c.writableBytes),
      b(c.reclaimableBytes),
      `writable layers; stopped ${b(c.stoppedWritableBytes)} (\`docker container prune\`)`,
    ]);
  } else if (d.df) {
    const running = d.df.containers.filter(isRunning).length;
    rows.push([
      'Containers',
      `${d.df.containers.length}: ${running} running`,
      '?',
      '?',
      unknownDetail(d, 'containers'),
    ]);
  }
  const v = d.volumes;
  if (v) {
    const unknown = v.unknownSizeCount ? `; ${v.unknownSizeCount} of unknown size` : '';
    rows.push([
      'Volumes',
      `${v.count}: ${v.inUse} in use, ${v.unused} unused`,
      b(v.totalBytes),
      b(v.reclaimableBytes),
      `unused ${b(v.unusedBytes)}${v.reclaimableAllBytes !== v.reclaimableBytes ? ` (\`docker volume prune --all\`: ${b(v.reclaimableAllBytes)})` : ''}${unknown}`,
    ]);
  } else if (d.df && d.df.unsized.includes('volumes')) {
    rows.push(['Volumes', `${d.df.volumes.length}`, '?', '?', unknownDetail(d, 'volumes')]);
  }
  const bc = d.buildCache;
  if (bc) {
    const types = Object.entries(bc.byType)
      .sort((x, y) => y[1] - x[1] || byText(x[0], y[0]))
      .slice(0, 3)
      .map(([t, n]) => `${inline(t)} ${b(n)}`)
      .join(', ');
    rows.push([
      'Build cache',
      `${bc.count} records`,
      b(bc.totalBytes),
      b(bc.reclaimableBytes),
      `in use ${b(bc.inUseBytes)}; ${types || 'empty'}`,
    ]);
  } else if (d.stale.some((x) => x.kind === 'build-cache'))
    rows.push(['Build cache', '?', '?', '?', unknownDetail(d, 'build-cache')]);
  const l = d.logs;
  const settings = l.unboundedContainers
    ? `${l.unboundedContainers} json-file logs without max-size (${b(l.unboundedBytes)}): they grow until the disk is full`
    : l.reason
      ? ''
      : 'all rotated (max-size set)';
  rows.push(
    l.visible
      ? [
          'Container logs',
          `${l.containers} containers, ${l.files} files`,
          b(l.totalBytes),
          '—',
          [settings, l.reason ? inline(l.reason) : ''].filter(Boolean).join('; '),
        ]
      : ['Container logs', '?', '?', '?', `not measured: ${inline(l.reason ?? 'unknown')}`],
  );
  return table(['Category', 'Objects', 'Size', 'Reclaimable', 'Detail'], rows);
}

/** `sizes unknown this run (last measured 30.0 MiB, 12 min ago)`: a row's kinds, when one run measured them all. */
function unknownDetail(d: DockerStorage, ...kinds: StaleKind[]): string {
  const last = kinds.map((k) => d.stale.find((s) => s.kind === k));
  const first = last[0];
  const known = first?.ageSeconds != null && last.every((s) => s?.bytes != null && s.measuredAt === first.measuredAt);
  return known
    ? `sizes unknown this run (last measured ${formatBytes(last.reduce((a, s) => a + s!.bytes!, 0))}, ${formatDuration(first.ageSeconds! * 1000)} ago)`
    : 'sizes unknown this run';
}

function detailLines(d: DockerStorage): string[] {
  const lines: string[] = [];
  if (d.startedSinceLastRun?.mayHaveDropped)
    lines.push(
      "Since the last run the daemon's event history is full (it keeps 256 events): containers started from an image then may be missing, so an image used only by short jobs may look unused.",
    );
  if (d.churn.length) {
    const churn = d.churn
      .slice(0, TOP_N)
      .map(
        (c) =>
          `${name(c.repository)}: ${c.builds24h} builds in 24 h, ${c.danglingVersions} ${c.keptIn === 'build-cache' ? 'old versions in the build cache' : 'dangling versions'}, ${formatBytes(c.danglingBytes)}`,
      );
    lines.push(`Rebuild churn: ${churn.join('; ')}${tail(d.churn.slice(TOP_N).map((c) => c.danglingBytes))}`);
  }
  const df = d.df;
  if (df && d.images) {
    const images = [...df.images].sort((a, b) => uniqueOf(b) - uniqueOf(a) || byText(a.id, b.id));
    lines.push(
      topList('Largest images (unique bytes)', images, uniqueOf, (i) => {
        const label = isDangling(i)
          ? `<dangling ${i.id.replace(/^sha256:/, '').slice(0, 12)}${d.danglingRepository[i.id] ? ` of ${d.danglingRepository[i.id]}` : ''}>`
          : i.repoTags[0]!;
        return `${name(label)} ${formatBytes(uniqueOf(i))} (${i.containers > 0 ? `${i.containers} containers` : 'unused'})`;
      }),
    );
  }
  if (df && d.images) {
    const used = df.images
      .filter((i) => i.containers > 0)
      .sort((a, b) => b.containers - a.containers || byText(a.id, b.id));
    if (used.length) {
      lines.push(
        topList(
          'Images in use (keep)',
          used,
          (i) => i.size,
          (i) =>
            `${name(i.repoTags[0] ?? i.id.replace(/^sha256:/, '').slice(0, 12))} ${formatBytes(i.size)} (${i.containers} containers)`,
        ),
      );
    }
  }
  if (df && d.containers) {
    const containers = [...df.containers].sort(
      (a, b) => b.sizeRw - a.sizeRw || byText(a.name, b.name) || byText(a.id, b.id),
    );
    lines.push(
      topList(
        'Largest writable layers',
        containers,
        (c) => c.sizeRw,
        (c) => `${name(c.name)} ${formatBytes(c.sizeRw)} (${inline(c.state)})`,
      ),
    );
  }
  if (df && d.volumes && df.volumes.length) {
    const volumes = [...df.volumes].sort((a, b) => b.size - a.size || byText(a.name, b.name));
    lines.push(
      topList(
        'Largest volumes',
        volumes,
        (v) => Math.max(0, v.size),
        (v) =>
          `${name(v.name)} ${v.size >= 0 ? formatBytes(v.size) : 'size unknown'} (${v.refCount > 0 ? `${v.refCount} containers` : 'unused'})`,
      ),
    );
  }
  if (d.logs.visible && d.logs.entries.length) {
    lines.push(
      topList(
        'Largest logs',
        d.logs.entries,
        (e) => e.bytes,
        (e) =>
          `${name(e.name)} ${formatBytes(e.bytes)} (${e.driver === '?' ? 'settings not readable' : `${inline(e.driver)}, ${e.maxSize ? `max-size ${inline(e.maxSize)}` : e.unbounded ? 'no max-size' : 'rotated'}`})`,
      ),
    );
  }
  if (df && d.buildCache && df.buildCache.length) {
    const records = df.buildCache.filter((r) => !r.shared).sort((a, b) => b.size - a.size || byText(a.id, b.id));
    const oldestMs = d.buildCache.oldestLastUsedAt ? Date.parse(d.buildCache.oldestLastUsedAt) : NaN;
    const oldest = Number.isNaN(oldestMs)
      ? ''
      : `oldest last use ${new Date(oldestMs).toISOString().slice(0, 16).replace('T', ' ')} UTC; `;
    lines.push(
      `Build cache: ${oldest}${topList(
        'largest',
        records,
        (r) => r.size,
        (r) => `${inline(r.type)} "${inline(r.description, 80)}" ${formatBytes(r.size)}${r.inUse ? ' (in use)' : ''}`,
      )}`,
    );
  }
  return lines;
}

function name(s: string): string {
  return inline(s, NAME_MAX);
}

function topList<T>(label: string, items: readonly T[], bytes: (t: T) => number, show: (t: T) => string): string {
  const head = items.slice(0, TOP_N).map(show).join('; ');
  return `${label}: ${head || 'none'}${tail(items.slice(TOP_N).map(bytes))}`;
}

/** `… and 977 more, 12.3 GiB` */
function tail(rest: readonly number[]): string {
  if (rest.length === 0) return '';
  return `; … and ${rest.length} more, ${formatBytes(rest.reduce((a, n) => a + n, 0))}`;
}
