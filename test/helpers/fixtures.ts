import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');

/**
 * A captured tool output. Fixture files open with `# ` lines saying how they
 * were captured; those are stripped here, the rest is byte-for-byte output.
 */
export function fixture(relative: string): string {
  const text = readFileSync(path.join(FIXTURES, relative), 'utf8');
  const lines = text.split('\n');
  let start = 0;
  while (start < lines.length && lines[start]!.startsWith('# ')) start += 1;
  return lines.slice(start).join('\n');
}

/** The capture header of a fixture (its `# ` lines), for tests that check provenance. */
export function fixtureHeader(relative: string): string {
  const text = readFileSync(path.join(FIXTURES, relative), 'utf8');
  return text
    .split('\n')
    .filter((l) => l.startsWith('# '))
    .join('\n');
}
