import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  attributeDangling,
  recipeOf,
  repositoryOf,
  summarizeChurn,
  UNKNOWN_REPOSITORY,
} from '../../src/model/churn.js';
import { isDangling, summarizeLogs } from '../../src/model/docker-storage.js';
import { isUnbounded, parseContainerLogListing } from '../../src/parse/container-logs.js';
import { parseSystemDf } from '../../src/parse/docker-df.js';
import { getContainerLogs } from '../../src/probes/container-logs.js';
import { execRunner } from '../../src/host/exec.js';
import { fixture } from '../helpers/fixtures.js';

describe.each(['overlay2-20.10', 'btrfs-20.10'])('container logs from the data root (%s)', (dir) => {
  const listing = parseContainerLogListing(fixture(`docker/${dir}/logs-listing.txt`));
  const df = parseSystemDf(JSON.parse(fixture(`docker/${dir}/system-df.json.txt`)));

  it('finds a log and a hostconfig for every container', () => {
    expect([...listing.keys()].sort()).toEqual(df.containers.map((c) => c.id).sort());
    for (const entry of listing.values())
      expect(entry.logConfig).toEqual({ type: 'json-file', maxSize: null, maxFile: null });
  });

  it('names the chatty container as the largest, unbounded log', () => {
    const logs = summarizeLogs(listing, null, df.containers, 'json-file');
    expect(logs.entries[0]).toMatchObject({ name: 'pf-chatty', unbounded: true, driver: 'json-file' });
    expect(logs.entries[0]!.bytes).toBeGreaterThan(39_000_000);
    expect(logs.totalBytes).toBe([...listing.values()].reduce((a, e) => a + e.bytes, 0));
    expect(logs.unboundedContainers).toBe(df.containers.length);
  });
});

describe('parseContainerLogListing', () => {
  const id = 'a'.repeat(64);
  it('adds rotated files and reads max-size', () => {
    const text = [
      `L\t100\t${id}/${id}-json.log`,
      `L\t250\t${id}/${id}-json.log.1`,
      `H\t${id}\t{"LogConfig":{"Type":"json-file","Config":{"max-size":"10m","max-file":"3"}}}`,
      'L\tnot-a-number\tjunk',
      `garbage line`,
    ].join('\n');
    const entry = parseContainerLogListing(text).get(id)!;
    expect(entry.bytes).toBe(350);
    expect(entry.files).toHaveLength(2);
    expect(entry.logConfig).toEqual({ type: 'json-file', maxSize: '10m', maxFile: '3' });
    expect(isUnbounded(entry.logConfig, 'json-file')).toBe(false);
  });

  it('treats the local driver as rotated by default and an unparsable hostconfig as unknown', () => {
    expect(isUnbounded({ type: 'local', maxSize: null, maxFile: null }, 'json-file')).toBe(false);
    expect(parseContainerLogListing(`H\t${id}\t{not json`).get(id)!.logConfig).toBeNull();
  });
});

describe('rebuild churn from captured image histories', () => {
  const raw = JSON.parse(fixture('docker/overlay2-20.10/system-df.json.txt'));
  const histories = JSON.parse(fixture('docker/overlay2-20.10/histories.json.txt')) as Record<
    string,
    { CreatedBy: string }[]
  >;
  const df = parseSystemDf(raw);
  const tagged = df.images
    .filter((i) => !isDangling(i))
    .map((image) => ({ image, recipe: recipeOf(histories[image.id]!) }));

  it('attributes each of the three dangling versions to pf-app, by recipe', () => {
    const dangling = df.images.filter(isDangling);
    expect(dangling).toHaveLength(3);
    for (const d of dangling) expect(attributeDangling(d, recipeOf(histories[d.id]!), tagged)).toBe('pf-app');
  });

  it('summarises pf-app: 4 builds in 24 h, 3 dangling versions and their unique bytes', () => {
    const repo = new Map(df.images.filter(isDangling).map((d) => [d.id, 'pf-app']));
    const unique = (i: (typeof df.images)[number]) => i.size - i.sharedSize;
    const newest = Math.max(...df.images.map((i) => i.created));
    const churn = summarizeChurn(df.images, repo, unique, newest + 60);
    const expectedBytes = df.images.filter(isDangling).reduce((a, i) => a + unique(i), 0);
    expect(churn[0]).toEqual({ repository: 'pf-app', builds24h: 4, danglingVersions: 3, danglingBytes: expectedBytes });
    // A day later nothing counts as a recent build, the dangling versions still do.
    expect(summarizeChurn(df.images, repo, unique, newest + 90_000)[0]).toMatchObject({
      builds24h: 0,
      danglingVersions: 3,
    });
  });

  it('leaves an image unattributed when it shares only the base with anything tagged', () => {
    const lone = { ...df.images[0]!, repoTags: [], repoDigests: [] };
    expect(attributeDangling(lone, ['COPY busybox /bin/busybox # buildkit', 'RUN something else'], tagged)).toBe(
      UNKNOWN_REPOSITORY,
    );
  });

  it('uses the digest repository of a pulled image', () => {
    expect(
      attributeDangling(
        { ...df.images[0]!, repoTags: [], repoDigests: ['reg:5000/team/app@sha256:ab'] },
        undefined,
        [],
      ),
    ).toBe('reg:5000/team/app');
  });

  it.each([
    ['app:1', 'app'],
    ['reg:5000/team/app:1.2', 'reg:5000/team/app'],
    ['reg:5000/app', 'reg:5000/app'],
    ['app@sha256:00', 'app'],
  ])('repositoryOf(%s) = %s', (ref, repo) => expect(repositoryOf(ref)).toBe(repo));
});

describe('the log listing script on a real containers folder', () => {
  it('lists logs and every hostconfig, with or without a final newline, in one awk whatever the count', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'pf-logs-'));
    try {
      const ids = Array.from({ length: 40 }, (_, i) => i.toString(16).padStart(64, '0'));
      for (const [i, id] of ids.entries()) {
        await mkdir(path.join(root, 'containers', id), { recursive: true });
        const config = `{"LogConfig":{"Type":"json-file","Config":{"max-size":"${i}m"}}}`;
        await writeFile(path.join(root, 'containers', id, 'hostconfig.json'), i % 2 ? config : `${config}\n`);
        await writeFile(path.join(root, 'containers', id, `${id}-json.log`), 'x'.repeat(i));
      }
      const logs = await getContainerLogs(execRunner, root, 10_000);
      expect(logs.size).toBe(40);
      ids.forEach((id, i) =>
        expect(logs.get(id)).toMatchObject({ bytes: i, logConfig: { type: 'json-file', maxSize: `${i}m` } }),
      );
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('gives an empty listing for a data root without containers yet', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'pf-logs-'));
    try {
      await mkdir(path.join(root, 'containers'));
      expect((await getContainerLogs(execRunner, root, 10_000)).size).toBe(0);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
