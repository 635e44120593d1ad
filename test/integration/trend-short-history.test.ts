import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseReport, runPreflight } from '../helpers/preflight.js';
import { useScratchDir } from '../helpers/scratch.js';

/*
 * A new user's first minute: three real runs seconds apart, on a fresh
 * journal. Seconds of runs are no growth rate and no time-to-full: not in
 * the markdown, the JSON, the metrics or the chart; each says what history
 * it still needs instead.
 */

/** A rate as the table prints one: `+175.7 MiB/h`, `-0 B/h`. */
const RATE = /[+-]\d[\d.]* [KMGTPE]?i?B\/h/;

describe('three runs seconds apart', () => {
  let dir = '';
  useScratchDir('pf-short-history-', (d) => (dir = d), 'all');

  it('give no rate and no time-to-full anywhere, and say what they still need', async () => {
    const env = () => ({ OPS_JOURNAL_ROOT: path.join(dir, 'journal') });
    const prom = path.join(dir, 'metrics.prom');
    for (let i = 0; i < 2; i += 1) expect((await runPreflight(['--format', 'json'], env())).exitCode).toBe(0);
    const third = await runPreflight(['--prom-file', prom], env());
    expect(third.exitCode).toBe(0);

    // JSON: the history has the three runs, under a minute apart; every figure is null with what it needs.
    const json = await runPreflight(['trend', '--format', 'json'], env());
    const trend = parseReport(json.stdout).trend;
    expect(trend.entries).toBe(3);
    expect(trend.filesystems.length).toBeGreaterThan(0);
    for (const f of trend.filesystems) {
      expect(f.forecastSpanMs).toBeLessThan(60_000);
      expect(f).toMatchObject({ timeToFullMs: null, forecastWindow: null });
      expect(f.forecastNeeds.moreMs).toBeGreaterThan(29 * 60_000);
      expect(f.bytesPerHour).toEqual({ '1h': null, '24h': null, '7d': null });
      expect(f.rateNeeds['1h'].moreMs).toBeGreaterThan(29 * 60_000);
    }
    for (const s of trend.sources) expect(s.bytesPerHour).toEqual({ '1h': null, '24h': null, '7d': null });

    // Markdown: the third run's Storage Trend section.
    const section = third.stdout.slice(third.stdout.indexOf('## Storage Trend'));
    const table = section.split('\n').filter((l) => l.startsWith('| /'));
    expect(table.length).toBeGreaterThan(0);
    for (const line of table) {
      expect(line).not.toMatch(RATE);
      expect(line).not.toMatch(/fit\)|not filling/);
      expect(line).toMatch(/ \| — \(needs (2\d|30) min more of runs\) \| — \(needs 12 h more of runs\) \| /);
    }
    expect(section).not.toMatch(/Growing sources/);

    // Metrics: no growth or time-to-full series at all (unknown is left out, never 0 or +Inf).
    const metrics = await readFile(prom, 'utf8');
    expect(metrics).toMatch(/^storage_preflight_filesystem_used_bytes\{/m);
    expect(metrics).not.toMatch(/^storage_preflight_(filesystem|source)_growth_bytes_per_second\{/m);
    expect(metrics).not.toMatch(/^storage_preflight_filesystem_time_to_full_seconds\{/m);

    // The chart: no projection, and the legend says what the forecast needs.
    const svg = (await runPreflight(['trend', '--svg', '-'], env())).stdout;
    expect(svg).toMatch(/>no forecast yet<\/text>\s*<text [^>]*>\(needs (2\d|30) min more of runs\)</);
    expect(svg).not.toMatch(/full in|Full in|full ~|projection|Not filling/);
  });
});
