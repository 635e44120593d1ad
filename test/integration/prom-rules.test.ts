import { execa } from 'execa';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { PromFamily } from '../../src/render/prom.js';
import { describeWith } from '../helpers/describe-with.js';
import { promtoolTestRules, RULES, type RulesTest } from '../helpers/prom.js';

/*
 * The shipped alert rules, checked by promtool (syntax, templates) and run
 * by `promtool test rules` on series shaped like ours: each alert fires where
 * it should, with the labels and text it should, and stays quiet beside it.
 */

const HOST = { instance: 'host:9100', job: 'node' };

/**
 * `storage_preflight_<family>{…}` in the input notation, on HOST unless
 * labels say otherwise. Samples come every minute, as scrapes of the
 * textfile do (a run every 20 minutes changes them; a 20-minute interval
 * here would leave instant selectors nothing within their 5-minute look-back).
 */
function series(family: PromFamily, labels: Record<string, string>, values: string) {
  const all = Object.entries({ ...HOST, ...labels })
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(',');
  return { series: `storage_preflight_${family}{${all}}`, values };
}

const alert = (labels: Record<string, string>, annotations?: Record<string, string>) => ({
  exp_labels: { ...HOST, ...labels },
  ...(annotations ? { exp_annotations: annotations } : {}),
});

const DOCKER = { mountpoint: '/var/lib/docker' };
const P1_DISK_HIGH = {
  summary: 'storage-preflight raises a P1 finding.',
  description:
    "disk-high on / (host:9100) for two runs in a row; the report's Storage Pressure section has the evidence.",
};

/** Used 650 of 1000 growing 15/h (full in under a day), one source at 0.004/s, another barely growing. */
const filling: RulesTest = {
  interval: '1m',
  input_series: [
    series('filesystem_used_bytes', { ...DOCKER, fstype: 'ext4' }, '650+0.25x240'),
    series('filesystem_avail_bytes', { ...DOCKER, fstype: 'ext4' }, '350-0.25x240'),
    series('source_growth_bytes_per_second', { ...DOCKER, source: 'build-cache', window: '24h' }, '0.004+0x240'),
    series('source_growth_bytes_per_second', { ...DOCKER, source: 'images', window: '24h' }, '0.0001+0x240'),
    // Full but flat: neither filling alert.
    series('filesystem_used_bytes', { mountpoint: '/', fstype: 'ext4' }, '950+0x240'),
    series('filesystem_avail_bytes', { mountpoint: '/', fstype: 'ext4' }, '50+0x240'),
    // Under 20% available and full within 4 h, no Docker source on it: warning and critical.
    series('filesystem_used_bytes', { mountpoint: '/srv', fstype: 'xfs' }, '850+0.5x240'),
    series('filesystem_avail_bytes', { mountpoint: '/srv', fstype: 'xfs' }, '150-0.5x240'),
  ],
  alert_rule_test: [
    {
      eval_time: '3h',
      alertname: 'StoragePreflightFilesystemSpaceFillingUp',
      exp_alerts: [
        alert(
          { ...DOCKER, fstype: 'ext4', severity: 'warning' },
          {
            summary: 'Filesystem is predicted to run out of space within the next 24 hours.',
            description:
              '/var/lib/docker (ext4) on host:9100 has only 30.50% available space left and is filling up. Fastest-growing source: build-cache, 0.004B/s over 24 h.',
          },
        ),
        alert(
          { mountpoint: '/srv', fstype: 'xfs', severity: 'warning' },
          {
            summary: 'Filesystem is predicted to run out of space within the next 24 hours.',
            description:
              '/srv (xfs) on host:9100 has only 6.00% available space left and is filling up. No Docker source grows on it.',
          },
        ),
        alert(
          { mountpoint: '/srv', fstype: 'xfs', severity: 'critical' },
          {
            summary: 'Filesystem is predicted to run out of space within the next 4 hours.',
            description:
              '/srv (xfs) on host:9100 has only 6.00% available space left and is filling up fast. No Docker source grows on it.',
          },
        ),
      ],
    },
    {
      eval_time: '3h',
      alertname: 'StoragePreflightSourceFillingUp',
      exp_alerts: [
        alert(
          { ...DOCKER, source: 'build-cache', window: '24h', severity: 'warning' },
          {
            summary: 'One storage source would fill the filesystem within 24 hours by itself.',
            description:
              "build-cache on /var/lib/docker (host:9100) grows 345.6B a day, more than the space left. The preflight's Remediation Plan says what can be freed on this storage driver.",
          },
        ),
      ],
    },
  ],
};

const btrfs: RulesTest = {
  interval: '1m',
  input_series: [
    ...[
      ['/srv/full', '0.8', '100+0x180'],
      ['/srv/roomy', '0.5', '100+0x180'],
      ['/srv/shrinking', '0.5', '1000-1x180'],
    ].flatMap(([mountpoint, ratio, unallocated]) => [
      series('btrfs_metadata_used_ratio', { mountpoint: mountpoint! }, `${ratio}+0x180`),
      series('btrfs_unallocated_bytes', { mountpoint: mountpoint! }, unallocated!),
      series('btrfs_unallocated_min_bytes', { mountpoint: mountpoint! }, '300+0x180'),
    ]),
  ],
  alert_rule_test: [
    {
      eval_time: '1h',
      alertname: 'StoragePreflightBtrfsMetadataExhaustion',
      exp_alerts: [
        alert(
          { mountpoint: '/srv/full', severity: 'critical' },
          {
            summary: 'btrfs metadata is running out; writes may fail with ENOSPC while df shows free space.',
            description:
              "Metadata on /srv/full (host:9100) is 80% full and unallocated space is below what a new metadata chunk needs. Run `btrfs balance start -dusage=0 /srv/full` (the safe step of the preflight's Remediation Plan), then stepped -dusage.",
          },
        ),
      ],
    },
    {
      eval_time: '2h',
      alertname: 'StoragePreflightBtrfsUnallocatedRunningOut',
      exp_alerts: [
        alert(
          { mountpoint: '/srv/shrinking', severity: 'warning' },
          {
            summary: 'btrfs unallocated space is predicted to fall below the metadata guideline within 24 hours.',
            description:
              "Chunk allocation on /srv/shrinking (host:9100) is heading below the unallocated space metadata needs; node_exporter's free space does not show this.",
          },
        ),
      ],
    },
  ],
};

/** One host stopped at t=0, the other runs every 20 minutes; an apply that freed 10 MiB of 500 MiB expected, then a normal run replaced it. */
const runs: RulesTest = {
  interval: '1m',
  input_series: [
    series('last_success_timestamp_seconds', { instance: 'stopped:9100' }, '0+0x480'),
    series('last_success_timestamp_seconds', { instance: 'running:9100' }, '0+60x480'),
    series('remediation_reclaimed_bytes', { ...DOCKER, tier: 'safe' }, '10485760+0x19 stale'),
    series('remediation_expected_bytes', { ...DOCKER, tier: 'safe' }, '524288000+0x19 stale'),
    series('remediation_reclaimed_bytes', { ...DOCKER, tier: 'moderate' }, '419430400+0x19 stale'),
    series('remediation_expected_bytes', { ...DOCKER, tier: 'moderate' }, '524288000+0x19 stale'),
    series('section_status', { section: 'docker', status: 'timeout' }, '1+0x480'),
    series('section_status', { section: 'docker', status: 'ok' }, '0+0x480'),
    series('finding', { name: 'disk-high', severity: 'P1', mountpoint: '/' }, '1+0x480'),
    series('finding', { name: 'disk-warning', severity: 'P4', mountpoint: '/srv' }, '1+0x480'),
  ],
  alert_rule_test: [
    {
      eval_time: '2h',
      alertname: 'StoragePreflightStale',
      exp_alerts: [
        alert(
          { instance: 'stopped:9100', severity: 'warning' },
          {
            summary: 'storage-preflight has not completed a run for over an hour.',
            description:
              "The last run whose Storage Pressure assessment finished on stopped:9100 started 2h 0m 0s ago. The supervisor stopped calling it, the textfile cannot be written (see the report's Metrics line), or every run fails.",
          },
        ),
      ],
    },
    {
      eval_time: '3h',
      alertname: 'StoragePreflightRemediationUnderDelivered',
      exp_alerts: [
        alert(
          { ...DOCKER, tier: 'safe', severity: 'warning' },
          {
            summary: 'The clean-up freed less than half of what it expected.',
            description:
              'The safe clean-up on /var/lib/docker (host:9100) freed 10MiB, under half of what its plan expected: something still holds the space (shared layers, BuildKit records, open files) or writes as fast.',
          },
        ),
      ],
    },
    // keep_firing_for (6 h) is over.
    { eval_time: '7h', alertname: 'StoragePreflightRemediationUnderDelivered', exp_alerts: [] },
    {
      eval_time: '2h',
      alertname: 'StoragePreflightSectionFailing',
      exp_alerts: [
        alert(
          { section: 'docker', status: 'timeout', severity: 'warning' },
          {
            summary: 'A storage-preflight section keeps failing.',
            description: "Section docker on host:9100 ended with timeout for an hour; the report's section says why.",
          },
        ),
      ],
    },
    {
      eval_time: '1h',
      alertname: 'StoragePreflightP1Finding',
      exp_alerts: [alert({ name: 'disk-high', priority: 'P1', severity: 'warning', mountpoint: '/' }, P1_DISK_HIGH)],
    },
  ],
};

describeWith(['promtool'], 'the shipped Prometheus alert rules', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'pf-rules-'));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('pass promtool check rules', async () => {
    const res = await execa('promtool', ['check', 'rules', RULES], { reject: false, all: true });
    expect([res.exitCode, String(res.all)]).toEqual([0, expect.stringMatching(/SUCCESS: 9 rules found/)]);
  });

  it.each([
    ['filling filesystem and its source', filling],
    ['btrfs metadata', btrfs],
    ['stale runs, under-delivering clean-up, failing sections, findings', runs],
  ])('fire where they should and nowhere else: %s', async (_, test) => {
    const res = await promtoolTestRules(RULES, [test], dir);
    expect(res.output).toMatch(/SUCCESS/);
    expect(res.exitCode).toBe(0);
  });
});
