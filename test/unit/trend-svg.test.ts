import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { formatRecord, parseHistory, type HistoryRecord } from '../../src/model/history.js';
import { byteTicks, timeTicks } from '../../src/render/axes.js';
import { PLOT_COLUMNS, renderTrendSvg } from '../../src/render/trend-svg.js';
import { assessTrend } from '../../src/model/trend/assess.js';
import { chartModel } from '../../src/model/trend/chart.js';
import { describeWith } from '../helpers/describe-with.js';
import { GiB, HOUR, MIN, historyRecord } from '../helpers/history.js';

const T0 = Date.parse('2026-11-20T00:00:00Z');

/** The command's path: records → trend → model → SVG. */
function svgOf(
  records: readonly HistoryRecord[],
  opts: { days?: number; thresholdPct?: number; problem?: string | null } = {},
) {
  const trend = assessTrend(records, 0, opts.thresholdPct ?? 80);
  const model = chartModel({
    records,
    trendOf: (m) => trend.filesystems.find((f) => f.mountpoint === m),
    days: opts.days ?? 7,
    maxPoints: PLOT_COLUMNS,
  });
  return {
    model,
    svg: renderTrendSvg({
      model,
      days: opts.days ?? 7,
      thresholdPct: opts.thresholdPct ?? 80,
      problem: opts.problem ?? null,
    }),
  };
}

/** A run every 20 minutes from T0, `used(i)` bytes used, logs and images as sources. */
function runs(
  count: number,
  used: (i: number) => number,
  opts: { mountpoint?: string; skip?: (i: number) => boolean } = {},
) {
  return Array.from({ length: count }, (_, i) => i)
    .filter((i) => !opts.skip?.(i))
    .map((i) =>
      historyRecord(T0 + i * 20 * MIN, Math.round(used(i)), {
        mountpoint: opts.mountpoint,
        sources: { 'container-logs': Math.round(used(i) / 4), images: Math.round(used(i) / 4) },
      }),
    );
}

const HOSTILE_MOUNT = '/mnt/</text><script>alert(1)</script>&amp;"\'\u0001\u001b[31m\u0000\ud800\uffff\u202e\nx';
const CONTROL_INVALID_IN_XML = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ud800-\udfff\ufffe\uffff]/u;

async function xmlErrors(svg: string): Promise<string> {
  const res = await execa('xmllint', ['--noout', '-'], { input: svg, reject: false });
  return res.exitCode === 0 ? '' : String(res.stderr) || `exit ${res.exitCode}`;
}

describeWith(['xmllint'], 'the trend chart parses as strict XML', () => {
  it('escapes a hostile mountpoint, host and clean-up step name', async () => {
    const records = runs(12, (i) => (40 + i) * GiB, { mountpoint: HOSTILE_MOUNT }).map((r, i) => ({
      ...r,
      host: 'evil"><foreignObject>&host;',
      remediation: i === 6 ? [{ action: ']]><!-- <step> & "quoted" \'x\' \u0007', reclaimedBytes: 3 * GiB }] : [],
    }));
    const { svg } = svgOf(records, { problem: 'EPERM: <folder> & "link"' });
    expect(await xmlErrors(svg)).toBe('');
    expect(svg).not.toMatch(CONTROL_INVALID_IN_XML);
    expect(svg).not.toContain('<script');
    expect(svg).not.toContain('<foreignObject');
    expect(svg).not.toContain('<!--');
    expect(svg).toContain(
      'Storage on /mnt/&lt;/text&gt;&lt;script&gt;alert(1)&lt;/script&gt;&amp;amp;&quot;&apos;\\u{1}',
    );
    expect(svg).toContain('evil&quot;&gt;&lt;foreignObject&gt;&amp;host;');
    expect(svg).toContain('history: EPERM: &lt;folder&gt; &amp; &quot;link&quot;');
  });

  it('renders an empty history as a "no data yet" chart', async () => {
    const { model, svg } = svgOf([]);
    expect(model).toBeNull();
    expect(await xmlErrors(svg)).toBe('');
    expect(svg).toContain('no data yet');
    expect(svg).toContain('No runs recorded in the last 7 days.');
    expect(svg).not.toContain('<polygon');
  });

  it('renders a single run, and runs that measured no summary filesystem', async () => {
    const one = svgOf([historyRecord(T0, 10 * GiB)]);
    expect(await xmlErrors(one.svg)).toBe('');
    expect(one.svg).toContain('1 runs');
    expect(one.svg).toContain('no forecast yet');
    const none = svgOf([historyRecord(T0, 10 * GiB, { over: { summaryMount: null } })]);
    expect(none.model).toBeNull();
    expect(none.svg).toContain('no data yet');
  });
});

describe('the trend chart', () => {
  it('stacks the sources under the used line, with capacity, threshold and a legend naming each', () => {
    const { model, svg } = svgOf(
      runs(30, (i) => (40 + i / 3) * GiB),
      { thresholdPct: 75 },
    );
    expect(model!.kinds).toEqual(['outside-docker', 'images', 'container-logs']);
    expect(svg.match(/<polygon /g)).toHaveLength(3);
    for (const label of [
      'outside Docker',
      'images',
      'container logs',
      'used (statfs)',
      'capacity (used + available)',
      'disk threshold (75%)',
      'time (UTC)',
      'bytes used',
    ]) {
      expect(svg).toContain(`>${label}</text>`);
    }
    expect(svg).toContain('Storage on /var/lib/docker');
    expect(svg).toMatch(/>100 GiB<\/text>/);
    expect(svg).toContain('Now: 50% used, 49.7 GiB of 100.0 GiB');
  });

  it('leaves a gap where runs are missing for over an hour, and only there', () => {
    // 3 h with no runs after run 9; 60 minutes exactly after run 20 is not a gap.
    const records = runs(40, (i) => (30 + i / 3) * GiB, { skip: (i) => (i > 9 && i < 19) || (i > 27 && i < 30) });
    const { model, svg } = svgOf(records);
    expect(model!.gaps).toEqual([{ from: T0 + 9 * 20 * MIN, to: T0 + 19 * 20 * MIN }]);
    expect(model!.segments.map((s) => s.length)).toEqual([10, 19]);
    expect(svg.match(/<polygon /g)).toHaveLength(2 * 3);
    expect(svg).toContain('>no runs for over 1 h</text>');
    // No used line crosses the hole.
    const x = (t: number) => 84 + ((t - model!.start) / (model!.end - model!.start)) * (690 - 84);
    const [from, to] = [x(model!.gaps[0]!.from), x(model!.gaps[0]!.to)];
    for (const [, pts] of svg.matchAll(/<polyline points="([^"]+)"/g)) {
      const xs = pts!.split(' ').map((p) => Number(p.split(',')[0]));
      expect(xs.some((v) => v <= from + 0.1) && xs.some((v) => v >= to - 0.1)).toBe(false);
    }
  });

  it('marks applied clean-up with the bytes freed and the steps', () => {
    const records = runs(20, (i) => (i < 12 ? 60 + i : 40 + i) * GiB);
    records[12] = {
      ...records[12]!,
      remediation: [
        { action: 'remove-containers', reclaimedBytes: 18 * GiB },
        { action: 'remove-dangling-images', reclaimedBytes: 2 * GiB },
      ],
    };
    const { model, svg } = svgOf(records);
    expect(model!.remediations).toEqual([{ t: T0 + 12 * 20 * MIN, freed: 20 * GiB, steps: records[12]!.remediation }]);
    expect(svg).toContain('>−20.0 GiB</text>');
    expect(svg).toContain(
      '<title>2026-11-20 04:00 UTC clean-up: remove-containers 18.0 GiB; remove-dangling-images 2.0 GiB</title>',
    );
    expect(svg).toContain('Clean-up: 20.0 GiB freed in 2 steps');
  });

  it("projects the trend's time-to-full from the last point: to capacity within the horizon, else to the edge", () => {
    // 1.5 GiB per 20 minutes, 2 GiB left after 12 h: full within the 12 h chart's 3 h margin on the right.
    const fast = svgOf(runs(37, (i) => (44 + i * 1.5) * GiB));
    expect(fast.model!.forecast).toMatchObject({ kind: 'full', window: '6h fit' });
    expect(fast.svg).toMatch(/>full ~11-20 1\d:\d\d UTC<\/text>/);
    expect(fast.svg).toContain('>projection (6h fit)</text>');
    const slow = svgOf(runs(37, (i) => (20 + i * 0.1) * GiB));
    expect(slow.model!.forecast).toMatchObject({ kind: 'beyond' });
    expect(slow.svg).toMatch(/>full in \d+ days →<\/text>/);
    const flat = svgOf(runs(37, () => 20 * GiB));
    expect(flat.model!.forecast).toEqual({ kind: 'not-filling', window: '6h fit' });
    expect(flat.svg).toContain('Not filling (6h fit)');
    expect(flat.svg).not.toContain('projection');
  });

  it('keeps to --days, and draws at most one point per pixel column', () => {
    const dense = Array.from({ length: 10 * 24 * 12 }, (_, i) =>
      historyRecord(T0 + i * 5 * MIN, (30 + (i % 50) / 10) * GiB),
    );
    const { model, svg } = svgOf(dense, { days: 3 });
    expect(model!.start).toBe(model!.last - 3 * 24 * HOUR);
    expect(model!.runs).toBe(3 * 24 * 12 + 1);
    expect(model!.segments[0]!.length).toBeLessThanOrEqual(PLOT_COLUMNS + 2);
    expect(svg).toContain('last 3 days');
    expect(svg.length).toBeLessThan(100_000);
  });

  it('gives the same bytes for the same history, however it was read back', () => {
    const records = runs(50, (i) => (30 + (i % 7)) * GiB, { skip: (i) => i > 20 && i < 26 });
    const again = parseHistory(records.map(formatRecord).join('')).records;
    expect(svgOf(again).svg).toBe(svgOf(records).svg);
  });
});

describe('chart axes', () => {
  it('puts time ticks on round UTC times, the date at midnight', () => {
    const ticks = timeTicks(Date.parse('2026-11-20T21:10:00Z'), Date.parse('2026-11-21T09:00:00Z'));
    expect(ticks.map((t) => t.label)).toEqual(['22:00', '11-21', '02:00', '04:00', '06:00', '08:00']);
    expect(ticks[1]!.value).toBe(Date.parse('2026-11-21T00:00:00Z'));
  });

  it('puts byte ticks on round sizes in one IEC unit, the top at or above the peak', () => {
    expect(byteTicks(208 * GiB)).toEqual({
      top: 250 * GiB,
      ticks: [0, 50, 100, 150, 200, 250].map((v) => ({ value: v * GiB, label: `${v} GiB` })),
    });
    expect(byteTicks(1.5 * 1024 * GiB).ticks.map((t) => t.label)).toEqual([
      '0 TiB',
      '0.25 TiB',
      '0.5 TiB',
      '0.75 TiB',
      '1 TiB',
      '1.25 TiB',
      '1.5 TiB',
    ]);
    expect(byteTicks(0).ticks.map((t) => t.label)).toEqual(['0 B', '1 B']);
  });
});
