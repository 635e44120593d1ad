import { describe, expect, it } from 'vitest';
import { parseSystemDf } from '../../src/parse/docker-df.js';
import { parseInfo, parseVersion } from '../../src/parse/docker-engine.js';
import { dockerMarkdown } from '../../src/sections/docker/markdown.js';
import { buildDockerStorage } from '../../src/model/docker-storage.js';
import { fixture } from '../helpers/fixtures.js';

const engine = parseInfo(
  JSON.parse(fixture('docker/overlay2-20.10/info.json.txt')),
  parseVersion(JSON.parse(fixture('docker/overlay2-20.10/version.json.txt'))),
);

function render(dfFixture: string, extra: Partial<Parameters<typeof buildDockerStorage>[0]> = {}) {
  const df = parseSystemDf(JSON.parse(fixture(dfFixture)));
  const model = buildDockerStorage({
    source: 'api',
    endpoint: '/var/run/docker.sock',
    engine,
    df,
    dfProblem: null,
    logs: null,
    logsReason: 'not measured in this test',
    danglingRepository: {},
    nowSeconds: 1_800_000_000,
    ...extra,
  });
  return { df, text: `## Docker Storage\n${dockerMarkdown(model).join('\n')}\n` };
}

describe('Docker Storage markdown stays bounded', () => {
  it('renders a recorded /system/df of more than 1,000 objects in at most 4 KB', () => {
    const { df, text } = render('docker/scale-20.10/system-df.json.txt');
    const objects = df.images.length + df.containers.length + df.volumes.length + df.buildCache.length;
    expect(objects).toBeGreaterThan(1000);
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(4096);
    expect(text).toMatch(/Largest volumes: .*; … and 1095 more, 0 B/);
    expect(text).toMatch(/Largest writable layers: .*; … and 145 more, 0 B/);
    expect(text).toContain('| Volumes | 1100: 0 in use, 1100 unused |');
  });

  it('names what /system/df could not size when it timed out, with no made-up figures', () => {
    const { text } = render('docker/overlay2-20.10/system-df.json.txt', {
      dfProblem: 'GET /system/df gave no answer in 40 s',
    });
    expect(text).toContain('Sizes unknown this run: GET /system/df gave no answer in 40 s.');
    expect(text).toMatch(/^\| Images \| 6 \| \? \| \? \| sizes unknown this run \|$/m);
    expect(text).not.toMatch(/Largest images/);
  });
});
