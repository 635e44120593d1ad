import { execa } from 'execa';
import { mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatRecord, historyDir, historyFile, parseHistory, type HistoryRecord } from '../../src/model/history.js';
import { execRunner } from '../../src/host/exec.js';
import { appendToFile } from '../../src/sinks/files.js';
import { describeWith } from '../helpers/describe-with.js';
import { GiB, HOUR } from '../helpers/history.js';
import { runPreflight } from '../helpers/preflight.js';
import { colourCounts, decodePng } from '../helpers/png.js';
import { useScratchDir } from '../helpers/scratch.js';

const CHROMIUM = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
const HOSTILE_STEP = 'remove-containers</text><script>alert(1)</script>&"';

/**
 * A week of history on this machine's summary filesystem: one real run,
 * then six days of hourly records before it (its figures, scaled), written
 * through the real append code, with a 5 h hole and one applied clean-up.
 */
async function weekOfHistory(journal: string): Promise<number> {
  const run = await runPreflight([], { OPS_JOURNAL_ROOT: journal });
  expect(run.exitCode).toBe(0);
  const dir = historyDir(journal);
  const real = parseHistory(
    (await Promise.all((await readdir(dir)).map((f) => readFile(path.join(dir, f), 'utf8')))).join(''),
  ).records[0]!;
  const fs = real.filesystems.find((f) => f.mountpoint === real.summaryMount)!;
  const capacity = fs.usedBytes + fs.availBytes;
  const now = Date.parse(real.at);
  const byFile = new Map<string, string>();
  let written = 0;
  for (let h = 144; h >= 1; h -= 1) {
    if (h >= 95 && h <= 99) continue;
    const usedBytes = Math.round(fs.usedBytes * (h > 30 ? 1 - h / 400 : 0.97 - h / 600));
    const logs = Math.round(Math.min(usedBytes / 3, 2 * GiB + (144 - h) * 0.05 * GiB));
    const images = Math.round(usedBytes / 5);
    const r: HistoryRecord = {
      ...real,
      at: new Date(now - h * HOUR).toISOString(),
      id: `past-${h}`,
      filesystems: [
        { ...fs, usedBytes, availBytes: capacity - usedBytes, usedPct: Math.ceil((usedBytes * 100) / capacity) },
      ],
      sources: { images, 'container-logs': logs, 'outside-docker': usedBytes - images - logs },
      remediation: h === 30 ? [{ action: HOSTILE_STEP, reclaimedBytes: Math.round(fs.usedBytes * 0.07) }] : [],
    };
    const file = historyFile(journal, new Date(r.at));
    byFile.set(file, (byFile.get(file) ?? '') + formatRecord(r));
    written += 1;
  }
  for (const [file, text] of byFile) await appendToFile(execRunner, dir, file, text, 10_000, '0700');
  return written + 1;
}

describeWith(
  ['chromium'],
  'preflight trend --svg, rendered in headless Chromium',
  () => {
    let dir = '';
    let journal = '';
    let svgFile = '';
    let entries = 0;
    const chromium = (...args: string[]) =>
      execa('chromium', [...CHROMIUM, `--user-data-dir=${path.join(dir, 'profile')}`, ...args], {
        reject: false,
        timeout: 90_000,
      });

    beforeAll(async () => {
      dir = await mkdtemp(path.join(tmpdir(), 'pf-trend-svg-'));
      journal = path.join(dir, 'journal');
      svgFile = path.join(dir, 'trend.svg');
      entries = await weekOfHistory(journal);
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('writes the chart and still prints the trend; --svg - prints the same bytes', async () => {
      const run = await runPreflight(['trend', '--svg', svgFile], { OPS_JOURNAL_ROOT: journal });
      expect(run).toMatchObject({ exitCode: 0, stderr: '' });
      expect(run.stdout).toContain(`From ${entries} journal entries`);
      const svg = await readFile(svgFile, 'utf8');
      expect(svg).toContain('<svg xmlns="http://www.w3.org/2000/svg"');
      const stdout = await runPreflight(['trend', '--svg', '-'], { OPS_JOURNAL_ROOT: journal });
      expect(stdout.exitCode).toBe(0);
      // execa drops the final newline of stdout.
      expect(`${stdout.stdout}\n`).toBe(svg);
    });

    it('parses in the browser, with the legend, the title and the hostile step name as text', async () => {
      const res = await chromium('--dump-dom', pathToFileURL(svgFile).href);
      expect(res.exitCode).toBe(0);
      const dom = String(res.stdout);
      expect(dom).not.toMatch(/parsererror|This page contains the following errors/);
      expect(dom).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
      for (const label of [
        'Storage on /',
        'outside Docker',
        'container logs',
        'images',
        'capacity (used + available)',
        'disk threshold (80%)',
        'clean-up applied (bytes freed)',
        'no runs for over 1 h',
        'time (UTC)',
      ]) {
        expect(dom).toContain(`>${label}`);
      }
      expect(dom).toContain('remove-containers&lt;/text&gt;&lt;script&gt;alert(1)&lt;/script&gt;&amp;"');
      expect(dom).not.toContain('<script');
    });

    it('renders a screenshot that is not blank: the stacked areas are painted in their legend colours', async () => {
      const png = path.join(dir, 'trend.png');
      const res = await chromium(`--screenshot=${png}`, '--window-size=1000,600', pathToFileURL(svgFile).href);
      expect(res.exitCode).toBe(0);
      const img = decodePng(await readFile(png));
      expect([img.width, img.height]).toEqual([1000, 600]);
      const counts = colourCounts(img);
      const white = counts.get('#ffffff') ?? 0;
      expect(1 - white / (img.width * img.height)).toBeGreaterThan(0.1);
      // outside Docker, images, container logs: solid fills, thousands of pixels each.
      for (const colour of ['#9e9e9e', '#4e79a7', '#e15759']) expect(counts.get(colour) ?? 0).toBeGreaterThan(2000);
      if (process.env.PREFLIGHT_KEEP_SCREENSHOT)
        await writeFile(process.env.PREFLIGHT_KEEP_SCREENSHOT, await readFile(png));
    });
  },
  { root: false, install: 'chromium' },
);

describe('preflight trend --svg: empty history and write failures', () => {
  let dir = '';
  useScratchDir(
    'pf-trend-svg-fail-',
    (d) => {
      dir = d;
    },
    'all',
  );

  it('writes a "no data yet" chart when there is no history', async () => {
    const file = path.join(dir, 'empty.svg');
    const run = await runPreflight(['trend', '--journal', path.join(dir, 'none'), '--svg', file]);
    expect(run.exitCode).toBe(0);
    expect(await readFile(file, 'utf8')).toContain('no data yet');
  });

  it.each([
    [
      'a folder that does not exist',
      async () => path.join(dir, 'missing', 'c.svg'),
      /ENOENT: its folder does not exist/,
    ],
    [
      'a symlink at the name',
      async () => {
        await writeFile(path.join(dir, 'target.txt'), 'keep');
        await symlink(path.join(dir, 'target.txt'), path.join(dir, 'link.svg'));
        return path.join(dir, 'link.svg');
      },
      /ELOOP: is a symbolic link/,
    ],
    ['a folder at the name', async () => dir, /ENOTREG/],
  ])('refuses %s: one line on stderr, nothing on stdout, exit 2', async (_, target, reason) => {
    const run = await runPreflight(['trend', '--journal', path.join(dir, 'none'), '--svg', await target()]);
    expect(run.exitCode).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(new RegExp(`^preflight: --svg \\S+: ${reason.source}[^\\n]*$`));
    expect(await readFile(path.join(dir, 'target.txt'), 'utf8').catch(() => 'keep')).toBe('keep');
  });

  it('belongs to trend only', async () => {
    const run = await runPreflight(['--svg', path.join(dir, 'x.svg')]);
    expect(run).toMatchObject({ exitCode: 2, stdout: '' });
    expect(run.stderr).toMatch(/--svg belongs to 'preflight trend'/);
  });
});
