import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMANDS, FLAGS } from '../../src/cli/flags.js';
import { REPO } from '../helpers/preflight.js';

/*
 * The reference pages are written by hand; the flag table they describe is
 * the code's (src/cli/flags.ts, which --help prints). This holds them
 * together: every flag is documented, and the docs name no flag that does
 * not exist.
 */
const read = (file: string) => readFileSync(path.join(REPO, file), 'utf8');
const docs = ['README.md', 'docs/configuration.md', 'docs/guard.md', 'docs/operations.md', 'docs/remediation.md'];

describe('the docs and the flag table', () => {
  const text = docs.map(read).join('\n');
  // Sample: `--journal-keep-days N`, `--max-tier safe|moderate`.
  const named = new Set([...text.matchAll(/(?<![\w-])--([a-z][a-z0-9-]*)/g)].map((m) => m[1]!));

  it('every flag of every command is in the docs', () => {
    expect(COMMANDS.length).toBeGreaterThan(0);
    const missing = FLAGS.map((f) => f.name).filter((n) => !named.has(n));
    expect(missing).toEqual([]);
  });

  it('the docs name no flag of ours that the code does not have', () => {
    const ours = new Set(FLAGS.map((f) => f.name));
    // Flags of other programs the docs quote (docker, btrfs, systemd, node_exporter, npm, du, df…) are not ours.
    const others = new Set(
      [...text.matchAll(/`[^`]*`/g)].flatMap((m) =>
        /^`(?!\.\/preflight|preflight)[A-Za-z./]/.test(m[0])
          ? [...m[0].matchAll(/--([a-z][a-z0-9-]*)/g)].map((x) => x[1]!)
          : [],
      ),
    );
    const unknown = [...named].filter((n) => !ours.has(n) && !others.has(n));
    expect(unknown).toEqual([]);
  });
});
