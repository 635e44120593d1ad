import { describe, expect, it } from 'vitest';
import { UnreadableError } from '../../src/model/errors.js';
import { attribute } from '../../src/model/attribution.js';
import type { FilesystemRow } from '../../src/model/filesystems.js';
import { buildDockerStorage, summarizeLogs } from '../../src/model/docker-storage.js';
import { blockedText, parseBlocked } from '../../src/parse/blocked.js';
import { parseContainerLogListing, parseDeniedFolders } from '../../src/parse/container-logs.js';
import { parseSystemDf } from '../../src/parse/docker-df.js';
import { parseInfo, parseVersion } from '../../src/parse/docker-engine.js';
import { overlayOrphansProblem } from '../../src/parse/overlay2-dirs.js';
import { getContainerLogs } from '../../src/probes/container-logs.js';
import type { ExecResult, Runner } from '../../src/host/exec.js';
import { dockerProblems } from '../../src/sections/docker/collect.js';
import { dockerMarkdown } from '../../src/sections/docker/markdown.js';
import { fixture } from '../helpers/fixtures.js';

/*
 * What a uid-1000 user in the docker group sees of the data root: the
 * listings captured with setpriv against a real 20.10 daemon
 * (test/fixtures/docker/non-root/, each with its capture command on top).
 */
const F = (name: string) => fixture(`docker/non-root/${name}`);
const MiB = 1024 ** 2;

describe('parseBlocked / blockedText: the folder that stopped a listing, in one clause', () => {
  it('tells a root-only data root from one not mounted here', () => {
    const denied = parseBlocked(F('logs-listing-root-only.txt'))!;
    expect(denied).toEqual({ path: 'DATA_ROOT', cause: 'denied', detail: 'Permission denied' });
    expect(blockedText({ ...denied, path: '/var/lib/docker' }, 1000)).toBe(
      '/var/lib/docker is not readable by uid 1000 (needs root)',
    );
    const missing = parseBlocked(F('logs-listing-not-mounted.txt'))!;
    expect(missing).toEqual({ path: 'DATA_ROOT', cause: 'missing', detail: 'No such file or directory' });
    expect(blockedText({ ...missing, path: '/var/lib/docker' }, 1000)).toBe(
      '/var/lib/docker does not exist here (not mounted into this container)',
    );
    expect(parseBlocked(F('overlay2-layer-listing-root-only.txt'))).toEqual(denied);
  });

  it('says "permission denied" to root (an ACL or a root-squashed mount), and counts refused folders', () => {
    expect(blockedText({ path: '/d', cause: 'denied', detail: 'Permission denied' }, 0)).toBe('/d: permission denied');
    expect(blockedText({ path: '/d/containers', cause: 'denied', detail: 'Permission denied', folders: 3 }, 1000)).toBe(
      '3 folders in /d/containers are not readable by uid 1000 (needs root)',
    );
    expect(blockedText({ path: '/d/containers', cause: 'denied', detail: 'Permission denied', folders: 1 }, 1000)).toBe(
      '1 folder in /d/containers is not readable by uid 1000 (needs root)',
    );
    expect(blockedText({ path: '/d', cause: 'other', detail: 'Input/output error' }, 1000)).toBe(
      '/d: Input/output error',
    );
  });

  it('finds nothing in a listing that went through', () => {
    expect(parseBlocked(fixture('docker/overlay2-20.10/logs-listing.txt'))).toBeNull();
    expect(parseBlocked(F('logs-listing-folders-denied.txt'))).toBeNull();
  });
});

describe('container folders and hostconfig.json this user may not read', () => {
  it('lists the refused container folders (D lines) and nothing else from that listing', () => {
    const text = F('logs-listing-folders-denied.txt');
    expect(parseDeniedFolders(text)).toHaveLength(3);
    expect(parseContainerLogListing(text).size).toBe(0);
    expect(parseDeniedFolders(fixture('docker/overlay2-20.10/logs-listing.txt'))).toEqual([]);
  });

  it('keeps the sizes of a log whose settings are unreadable, but never calls it unbounded', () => {
    const listing = parseContainerLogListing(F('logs-listing-hostconfig-unreadable.txt'));
    const unreadable = [...listing.values()].filter((l) => l.configUnreadable);
    expect(unreadable).toHaveLength(1);
    expect(unreadable[0]!.bytes).toBe(39_919_778);
    const logs = summarizeLogs(listing, null, [], 'json-file');
    expect(logs.visible).toBe(true);
    expect(logs.totalBytes).toBe(39_919_778 + 173 + 0);
    expect(logs.entries[0]).toMatchObject({ bytes: 39_919_778, driver: '?', unbounded: false });
    expect(logs.unboundedContainers).toBe(2);
    expect(logs.reason).toBe(
      'hostconfig.json of 1 container is not readable here: its log driver and max-size are unknown',
    );
  });
});

describe('getContainerLogs with recorded answers', () => {
  const answer =
    (stdout: string, exitCode: number): Runner =>
    async () =>
      ({ stdout, stderr: '', exitCode }) satisfies ExecResult;

  it('throws one UnreadableError naming the data root when it is root-only or not mounted', async () => {
    const root = getContainerLogs(answer(F('logs-listing-root-only.txt'), 3), '/var/lib/docker', 1000);
    await expect(root).rejects.toBeInstanceOf(UnreadableError);
    await expect(root).rejects.toMatchObject({ blocked: { path: 'DATA_ROOT', cause: 'denied' } });
    await expect(
      getContainerLogs(answer(F('logs-listing-not-mounted.txt'), 3), '/var/lib/docker', 1000),
    ).rejects.toThrow(/^DATA_ROOT does not exist here \(not mounted into this container\)$/);
  });

  it('refuses totals that would leave out the folders it could not enter', async () => {
    await expect(
      getContainerLogs(answer(F('logs-listing-folders-denied.txt'), 0), '/var/lib/docker/', 1000),
    ).rejects.toThrow(
      /^3 folders in \/var\/lib\/docker\/containers are (not readable by uid \d+ \(needs root\)|not readable \(permission denied\))$/,
    );
  });

  it('passes the data root itself to the script (it enters containers/ on its own, to tell which folder refused)', async () => {
    const calls: string[][] = [];
    const run: Runner = async (_f, args) => {
      calls.push([...args]);
      return { stdout: '', stderr: '', exitCode: 0 };
    };
    await getContainerLogs(run, '/var/lib/docker/', 1000);
    expect(calls[0]!.slice(2)).toEqual(['preflight-logs', '/var/lib/docker']);
  });
});

describe('the Docker section and the attribution when the data root is not readable', () => {
  const blocked = { path: '/var/lib/docker', cause: 'denied' as const, detail: 'Permission denied' };
  const reason = blockedText(blocked, 1000);

  it('says a data root that stopped both listings once, with what it leaves unmeasured', () => {
    expect(dockerProblems({ dfProblem: null, logs: { reason, blocked }, orphans: { reason, blocked } })).toBe(
      '/var/lib/docker is not readable by uid 1000 (needs root): container logs and orphaned overlay2 layers not measured',
    );
    expect(dockerProblems({ dfProblem: null, logs: { reason, blocked }, orphans: null })).toBe(
      'container logs: /var/lib/docker is not readable by uid 1000 (needs root)',
    );
    const overlay = { path: '/var/lib/docker/overlay2', cause: 'denied' as const, detail: 'Permission denied' };
    expect(
      dockerProblems({
        dfProblem: null,
        logs: { reason: 'x', blocked: { ...blocked, path: '/var/lib/docker/containers', folders: 2 } },
        orphans: { reason: 'y', blocked: overlay },
      }),
    ).toBe('container logs: x; overlay2 orphans: y');
    expect(dockerProblems({ dfProblem: null, logs: null, orphans: null })).toBeNull();
  });

  const model = buildDockerStorage({
    source: 'api',
    endpoint: 'x',
    engine: parseInfo(
      JSON.parse(fixture('docker/overlay2-20.10/info.json.txt')),
      parseVersion(JSON.parse(fixture('docker/overlay2-20.10/version.json.txt'))),
    ),
    df: parseSystemDf(JSON.parse(fixture('docker/overlay2-20.10/system-df.json.txt'))),
    dfProblem: null,
    logs: null,
    logsReason: reason,
    danglingRepository: {},
    nowSeconds: 0,
    overlayOrphans: overlayOrphansProblem(reason),
  });

  it('keeps every size from the API and gives the logs one row that says why they are missing', () => {
    const md = dockerMarkdown(model);
    expect(md.filter((l) => l.includes('not readable'))).toEqual([
      '| Container logs | ? | ? | ? | not measured: /var/lib/docker is not readable by uid 1000 (needs root) |',
    ]);
    expect(md.some((l) => /^\| Containers \| .* \| 50\.0 MiB \|/.test(l))).toBe(true);
    expect(md.some((l) => /^\| Volumes \| .* \| 30\.0 MiB \|/.test(l))).toBe(true);
  });

  it('notes, once, that what it could not read counts as outside Docker', () => {
    const fs: FilesystemRow = {
      mountpoint: '/var/lib/docker',
      device: '/dev/sda1',
      fstype: 'ext4',
      deviceNumber: '8:1',
      readonly: false,
      stuck: false,
      roles: ['docker-data-root'],
      paths: ['/var/lib/docker'],
      sizeBytes: 1024 * MiB,
      usedBytes: 400 * MiB,
      availBytes: 600 * MiB,
      reservedBytes: 24 * MiB,
      usedPct: 40,
      inodesUsedPct: 1,
    };
    const a = attribute(fs, model, null, { dataRoot: true, containerdRoot: false }, null);
    expect(a.sources.map((s) => s.kind)).not.toContain('container-logs');
    const unread = (notes: string[]) => notes.filter((n) => n.includes('not measured'));
    expect(unread(a.notes)).toEqual([
      'Container logs and orphaned overlay2 layers not measured (/var/lib/docker is not readable by uid 1000 (needs root)): their bytes count as outside Docker.',
    ]);
    const readable = attribute(
      fs,
      { ...model, logs: summarizeLogs(new Map(), null, [], 'json-file'), overlayOrphans: null },
      null,
      { dataRoot: true, containerdRoot: false },
      null,
    );
    expect(unread(readable.notes)).toEqual([]);
  });
});
