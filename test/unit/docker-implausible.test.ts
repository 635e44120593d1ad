import { describe, expect, it } from 'vitest';
import { parseSystemDf, plausibleBytes } from '../../src/parse/docker-df.js';
import { parseContainerLogListing } from '../../src/parse/container-logs.js';
import { parseInfo, parseVersion } from '../../src/parse/docker-engine.js';
import { formatBytes } from '../../src/text/bytes.js';
import { implausibleReason } from '../../src/sections/docker/collect.js';
import { dockerJson } from '../../src/sections/docker/json.js';
import { dockerMarkdown } from '../../src/sections/docker/markdown.js';
import { buildDockerStorage } from '../../src/model/docker-storage.js';
import { fixture } from '../helpers/fixtures.js';

const json = (name: string) => JSON.parse(fixture(name)) as unknown;

describe('implausible /system/df figures', () => {
  // system-df-implausible.json.txt is the real overlay2 capture edited by hand (its header lists the four edits).
  const df = parseSystemDf(json('docker/overlay2-20.10/system-df-implausible.json.txt'));

  it('counts each impossible byte figure and names the first object', () => {
    expect(df.implausible).toEqual({ count: 4, example: 'image sha256:ea2a48056cae Size 8.67e+289' });
    // 1e400 parses as Infinity: never a layer total.
    expect(df.layersSize).toBeNull();
  });

  it.each([
    'overlay2-20.10/system-df.json.txt',
    'btrfs-20.10/system-df.json.txt',
    'scale-20.10/system-df.json.txt',
    'api-1.52/system-df-verbose.json.txt',
    'api-1.52/system-df-legacy-and-usage.json.txt',
  ])('finds none in the real capture %s', (name) => {
    expect(parseSystemDf(json(`docker/${name}`)).implausible).toEqual({ count: 0, example: null });
  });

  it('accepts -1 only where the daemon means unknown by it', () => {
    expect(plausibleBytes(0)).toBe(true);
    expect(plausibleBytes(Number.MAX_SAFE_INTEGER)).toBe(true);
    expect(plausibleBytes(Number.MAX_SAFE_INTEGER + 2)).toBe(false);
    expect(plausibleBytes(-1)).toBe(false);
    expect(plausibleBytes(-1, true)).toBe(true);
    expect(plausibleBytes(-2, true)).toBe(false);
    expect(plausibleBytes(1.5)).toBe(false);
    expect(plausibleBytes(Number.NaN)).toBe(false);
    const unknowns = parseSystemDf({
      Images: [{ Id: 'sha256:aa', Size: 10, SharedSize: -1, Containers: -1 }],
      Volumes: [{ Name: 'v', UsageData: { Size: -1, RefCount: -1 } }],
      ImageUsage: { ActiveCount: 0, TotalCount: 1, Reclaimable: -3, TotalSize: 10 },
    });
    expect(unknowns.implausible).toEqual({ count: 1, example: 'images Reclaimable -3' });
  });

  it('shows counts, no sizes and no churn bytes: the reason says why', () => {
    const reason = implausibleReason(df.implausible);
    expect(reason).toBe(
      'the daemon reported implausible sizes (4 figures, e.g. image sha256:ea2a48056cae Size 8.67e+289): sizes treated as unknown',
    );
    const model = buildDockerStorage({
      source: 'api',
      endpoint: 'x',
      engine: parseInfo(
        json('docker/overlay2-20.10/info.json.txt'),
        parseVersion(json('docker/overlay2-20.10/version.json.txt')),
      ),
      df,
      dfProblem: reason,
      logs: parseContainerLogListing(fixture('docker/overlay2-20.10/logs-listing.txt')),
      logsReason: null,
      danglingRepository: {},
      nowSeconds: 0,
    });
    expect([model.images, model.containers, model.volumes, model.buildCache, model.churn]).toEqual([
      null,
      null,
      null,
      null,
      [],
    ]);
    const md = dockerMarkdown(model).join('\n');
    expect(md).toContain('Sizes unknown this run: the daemon reported implausible sizes (4 figures,');
    expect(md).toMatch(/^\| Images \| 6 \| \? \| \? \| sizes unknown this run \|$/m);
    // The figure appears once, as the example of what was wrong, never as a size.
    expect(md.split('\n').filter((l) => /e\+\d|EiB|-5 B|1\.5 B/.test(l))).toEqual([
      `Sizes unknown this run: ${reason}.`,
    ]);
    const { dfProblem, ...rest } = dockerJson(model).docker as Record<string, unknown>;
    expect(dfProblem).toBe(reason);
    expect(JSON.stringify(rest)).not.toMatch(/e\+289|"sizeRw":-5/);
  });
});

describe('formatBytes on figures no disk holds', () => {
  it('prints ? rather than a fact', () => {
    for (const n of [Number.NaN, Infinity, -Infinity, 8.67e289, -8.67e289, 2 ** 63 * 2])
      expect(formatBytes(n)).toBe('?');
  });

  it('keeps real sizes as they were', () => {
    expect([0, 512, 1024, 1536, 1023.96 * 1024 ** 3, 2 ** 62, 2 ** 63, -2048].map(formatBytes)).toEqual([
      '0 B',
      '512 B',
      '1.0 KiB',
      '1.5 KiB',
      '1.0 TiB',
      '4.0 EiB',
      '8.0 EiB',
      '-2.0 KiB',
    ]);
  });
});
