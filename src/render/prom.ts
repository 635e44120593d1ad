import type { DockerStorage } from '../model/docker-storage.js';
import type { Tier } from '../model/remediation/plan.js';
import type { Report } from '../model/report.js';
import { forecastTrusted, WINDOWS, type WindowName } from '../model/trend/assess.js';
import type { SectionStatus } from '../model/results.js';
import { plain } from '../text/escape.js';
import { gaugeFamily, type Labels, type Sample } from './exposition.js';

export const PROM_PREFIX = 'storage_preflight_';

/**
 * Every family (name after the prefix → HELP), in output order. All are
 * gauges in base units (bytes, seconds, 0–1 ratios). docs/metrics.md and the
 * alert rules name these; a unit test holds the rules to this list.
 */
export const PROM_FAMILIES = {
  last_success_timestamp_seconds:
    'Start of the latest run whose Storage Pressure assessment finished (Unix time). Stale: runs stopped, or keep failing.',
  run_duration_seconds: 'How long this run took.',
  section_status:
    'Outcome of each section this run: 1 for its status (ok, degraded, error, timeout, skipped), 0 for the others.',
  section_duration_seconds: 'How long each section took this run.',
  filesystem_size_bytes: 'Filesystem size (statfs, as df -B1).',
  filesystem_used_bytes: 'Filesystem used bytes (blocks - bfree, as df -B1).',
  filesystem_avail_bytes: 'Filesystem bytes available to unprivileged users (bavail, as df -B1).',
  filesystem_inodes_used_ratio:
    'Inodes used over inodes total; absent where the filesystem keeps no inode count (btrfs).',
  filesystem_growth_bytes_per_second:
    'Least-squares growth of used bytes over the window (1h, 24h, 7d) of recorded runs. Absent until 3 runs span half the window.',
  filesystem_time_to_full_seconds:
    'Seconds until used reaches used + available at the fitted rate (6h fit, else 24h); +Inf when not filling. Absent under 3 runs over 30 minutes.',
  source_bytes: 'Used bytes of the Docker data root filesystem (else /) attributed to each source.',
  source_reclaimable_bytes: 'Bytes of each source that a matching prune or clean-up would free.',
  source_growth_bytes_per_second:
    'Least-squares growth of each source over the window (1h, 24h, 7d) of recorded runs. Absent until 3 runs span half the window.',
  object_growth_bytes_per_second:
    'Growth of the few Docker objects (kind volume, container, log, image, build-cache; at most 3) whose rate is trusted and at least 1% of the filesystem a day (1 MiB/h at least), over the fit it comes from (24h, else 1h). Absent for every other object.',
  docker_objects: 'Docker objects per category (images, containers, volumes, build-cache; logs: log files).',
  docker_bytes:
    'Bytes per Docker category, from GET /system/df (logs: the log files); volumes only when every size is known.',
  docker_reclaimable_bytes: "Bytes the category's prune would free, as the Docker Storage section counts them.",
  btrfs_metadata_used_ratio: 'btrfs metadata used plus global reserve, over metadata allocated.',
  btrfs_unallocated_bytes: 'btrfs device space not allocated to any chunk.',
  btrfs_unallocated_min_bytes:
    'Unallocated space btrfs needs to keep allocating metadata chunks (one chunk per device plus two).',
  finding: '1 for each finding this run raised (name, severity P0-P4, mountpoint where it has one).',
  remediation_wanted_bytes: 'Bytes the clean-up must free to bring the filesystem to its target used %.',
  remediation_expected_bytes:
    'Bytes the clean-up is expected to free per tier: the steps remediate --apply ran, else the plan.',
  remediation_reclaimed_bytes:
    'Bytes statfs measured freed by the steps remediate --apply ran, per tier; only from an apply.',
} as const;

export type PromFamily = keyof typeof PROM_FAMILIES;

const STATUSES: readonly SectionStatus[] = ['ok', 'degraded', 'error', 'timeout', 'skipped'];
const TIERS: readonly Tier[] = ['safe', 'moderate', 'destructive'];
const WINDOW_NAMES = Object.keys(WINDOWS) as WindowName[];
const perSecond = (bytesPerHour: number | null) => (bytesPerHour === null ? null : bytesPerHour / 3600);
const sum = <T>(xs: readonly T[], f: (x: T) => number) => xs.reduce((a, x) => a + f(x), 0);

/** Pure: the report as exposition text, for node_exporter's textfile collector. */
export function renderProm(report: Report): string {
  const samples = new Map<PromFamily, Sample[]>();
  const add: Add = (family, labels, value) => {
    const list = samples.get(family) ?? [];
    list.push([labels, value]);
    samples.set(family, list);
  };
  runSamples(report, add);
  measuredSamples(report, add);
  remediationSamples(report, add);
  const lines = (Object.entries(PROM_FAMILIES) as [PromFamily, string][]).flatMap(([family, help]) =>
    gaugeFamily(`${PROM_PREFIX}${family}`, help, samples.get(family) ?? []),
  );
  // On stdout only (the file is rendered before its write): a comment, as other formats say it in a line.
  const p = report.promFile;
  if (p && !p.written) lines.push(`# Metrics: writing ${plain(p.file)} failed (${plain(p.reason ?? 'unknown')}).`);
  return `${lines.join('\n')}\n`;
}

type Add = (family: PromFamily, labels: Labels, value: number | null | undefined) => void;

function runSamples(report: Report, add: Add): void {
  const pressure = report.run.pressure;
  const trend = report.run.trend?.data;
  // This run when its assessment finished; else the latest that did, as the history knows it.
  const lastSuccess =
    pressure?.status === 'ok'
      ? report.generatedAt.getTime()
      : trend?.lastAssessedAt
        ? Date.parse(trend.lastAssessedAt)
        : null;
  add('last_success_timestamp_seconds', {}, lastSuccess === null ? null : lastSuccess / 1000);
  add('run_duration_seconds', {}, report.durationMs / 1000);
  for (const r of report.results) {
    for (const status of STATUSES)
      add('section_status', { section: r.section.id, status }, r.status === status ? 1 : 0);
    add('section_duration_seconds', { section: r.section.id }, r.durationMs / 1000);
  }
}

function measuredSamples({ run }: Report, add: Add): void {
  for (const f of run.filesystem?.data?.filesystems ?? []) {
    const labels = { mountpoint: f.mountpoint, fstype: f.fstype };
    add('filesystem_size_bytes', labels, f.sizeBytes);
    add('filesystem_used_bytes', labels, f.usedBytes);
    add('filesystem_avail_bytes', labels, f.availBytes);
    add('filesystem_inodes_used_ratio', labels, f.inodesUsedRatio);
  }
  const pressure = run.pressure?.data;
  const attribution = pressure?.attribution ?? null;
  for (const s of attribution?.sources ?? []) {
    add('source_bytes', { mountpoint: attribution!.mountpoint, source: s.kind }, s.bytes);
    add('source_reclaimable_bytes', { mountpoint: attribution!.mountpoint, source: s.kind }, s.reclaimableBytes);
  }
  const trend = run.trend?.data;
  for (const f of trend?.filesystems ?? []) {
    for (const window of WINDOW_NAMES)
      add(
        'filesystem_growth_bytes_per_second',
        { mountpoint: f.mountpoint, window },
        perSecond(f.bytesPerHour[window]),
      );
    // A fit that is not filling is +Inf (never full); no trusted fit is unknown.
    if (f.forecastWindow && forecastTrusted(f))
      add(
        'filesystem_time_to_full_seconds',
        { mountpoint: f.mountpoint },
        f.timeToFullMs === null ? Infinity : f.timeToFullMs / 1000,
      );
  }
  // The history's sources are this run's attribution's: the same filesystem.
  for (const s of attribution ? (trend?.sources ?? []) : []) {
    for (const window of WINDOW_NAMES)
      add(
        'source_growth_bytes_per_second',
        { mountpoint: attribution!.mountpoint, source: s.kind, window },
        perSecond(s.bytesPerHour[window]),
      );
  }
  // Only the named few: one series per growing object keeps the label set bounded.
  for (const o of trend?.growingObjects ?? [])
    add('object_growth_bytes_per_second', { kind: o.kind, name: o.name, window: o.window }, perSecond(o.bytesPerHour));
  dockerSamples(run.docker?.data, add);
  for (const b of run.btrfs?.data?.filesystems ?? []) {
    add('btrfs_metadata_used_ratio', { mountpoint: b.mountpoint }, b.assessment?.metadataFullness);
    add('btrfs_unallocated_bytes', { mountpoint: b.mountpoint }, b.usage?.deviceUnallocated);
    add(
      'btrfs_unallocated_min_bytes',
      { mountpoint: b.mountpoint },
      b.usage && b.assessment ? b.assessment.unallocatedGuideline : null,
    );
  }
  for (const f of pressure?.findings ?? [])
    add('finding', { name: f.name, severity: f.severity, mountpoint: f.mountpoint ?? '' }, 1);
}

function dockerSamples(d: DockerStorage | undefined, add: Add): void {
  const category = (name: string, count: number, bytes: number | null, reclaimable: number | null) => {
    add('docker_objects', { category: name }, count);
    add('docker_bytes', { category: name }, bytes);
    add('docker_reclaimable_bytes', { category: name }, reclaimable);
  };
  if (d?.images) category('images', d.images.count, d.images.totalBytes, d.images.reclaimableBytes);
  if (d?.containers)
    category('containers', d.containers.count, d.containers.writableBytes, d.containers.reclaimableBytes);
  // A sum that leaves out volumes of unknown size is no figure for them.
  const sized = d?.volumes?.unknownSizeCount === 0;
  if (d?.volumes)
    category(
      'volumes',
      d.volumes.count,
      sized ? d.volumes.totalBytes : null,
      sized ? d.volumes.reclaimableBytes : null,
    );
  if (d?.buildCache)
    category('build-cache', d.buildCache.count, d.buildCache.totalBytes, d.buildCache.reclaimableBytes);
  if (d?.logs.visible) category('logs', d.logs.files, d.logs.totalBytes, null);
}

/** Expected vs measured: from the apply when this run applied, else what the plan expects per tier. */
function remediationSamples({ run }: Report, add: Add): void {
  const applied = run.applied?.data;
  const plan = run.remediation?.data?.plan ?? null;
  if (applied?.mountpoint) {
    const mountpoint = applied.mountpoint;
    add('remediation_wanted_bytes', { mountpoint }, applied.wantedBytes);
    for (const tier of TIERS) {
      const steps = applied.steps.filter((s) => s.tier === tier);
      if (!steps.length) continue;
      add(
        'remediation_expected_bytes',
        { mountpoint, tier },
        sum(steps, (s) => s.expectedBytes),
      );
      // A tier with an unmeasured step has no total: a partial sum would read as under-delivery.
      add(
        'remediation_reclaimed_bytes',
        { mountpoint, tier },
        steps.every((s) => s.measuredBytes !== null) ? sum(steps, (s) => s.measuredBytes!) : null,
      );
    }
  } else if (plan) {
    add('remediation_wanted_bytes', { mountpoint: plan.mountpoint }, plan.wantBytes);
    for (const tier of TIERS)
      add('remediation_expected_bytes', { mountpoint: plan.mountpoint, tier }, plan.byTier[tier]);
  }
}
