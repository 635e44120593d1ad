import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPreflight } from '../helpers/preflight.js';

const BUDGET_S = 10;
/** Node's start and exit around the budget; the unbounded cases took 107 s and past 120 s. */
const MARGIN_MS = 3000;

/** `k0: 1` … as YAML or TOML: 101,010 keys in under 1 MiB, the size the old cap let through. */
const manyKeys = (n: number, sep: string) =>
  Array.from({ length: n }, (_, i) => `k${i.toString(36)}${sep}1\n`).join('');

describe('./preflight with a config nothing should take long on', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'pf-config-bounds-'));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Exit 2, one line on stderr naming the file, nothing on stdout, within the budget. */
  async function refused(name: string, text: string, message: RegExp) {
    const file = path.join(dir, name);
    await writeFile(file, text);
    const run = await runPreflight(
      ['--budget', String(BUDGET_S), '--no-journal', '--config', file],
      {},
      (BUDGET_S + 30) * 1000,
    );
    expect(run.elapsedMs, run.stderr).toBeLessThan(BUDGET_S * 1000 + MARGIN_MS);
    expect(run.exitCode, run.stderr).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(run.stderr.trimEnd()).toMatch(message);
  }

  it.each([
    ['yaml', ': '],
    ['toml', ' = '],
  ])('a 1 MB %s config of 101,010 keys is refused by its size', async (ext, sep) => {
    const text = manyKeys(101_010, sep);
    expect(text.length).toBeLessThan(1024 * 1024);
    await refused(
      `big.${ext}`,
      text,
      new RegExp(`^preflight: --config .*/big\\.${ext}: (EIO: )?larger than 65536 bytes: not a config file$`),
    );
  });

  it.each([
    ['yaml', ': '],
    ['toml', ' = '],
  ])('a %s config of 6,000 keys under the size cap is refused by its count', async (ext, sep) => {
    await refused(
      `many.${ext}`,
      manyKeys(6000, sep),
      new RegExp(`^preflight: .*/many\\.${ext}: 6000 entries \\(.*\\); a config has at most 1000$`),
    );
  });

  it('a keep pattern the linear matcher cannot run is refused at load, with the reason', async () => {
    await refused(
      'backref.yaml',
      "remediation:\n  keep_image_patterns: ['^ok/', '^(a+)\\1$']\n",
      /^preflight: .*\/backref\.yaml: remediation\.keep_image_patterns\[1\]: expected a regular expression, got "\^\(a\+\)\\\\1\$" \(backreference \\1 is not supported: keep patterns are matched in linear time, see the README\)$/,
    );
  });
});
