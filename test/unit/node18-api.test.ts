import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readProcFile } from '../../src/probes/mountinfo.js';
import { REPO } from '../helpers/preflight.js';

/*
 * The bundle runs on Node 18.19 (Debian 12, the host's agents container) as
 * well as on 20+. TypeScript checks against Node 20's types and esbuild's
 * node18 target lowers syntax only, so an API Node 18 lacks would pass both
 * and fail on the host. test/integration/node18.test.ts runs the commands
 * under a real 18.19; this catches the paths those runs do not reach.
 */
const NOT_IN_NODE_18_19: [RegExp, string][] = [
  [/import\.meta\.(dirname|filename)/, 'import.meta.dirname/filename (20.11): use fileURLToPath(import.meta.url)'],
  [/AbortSignal\.any\b/, 'AbortSignal.any (20.3)'],
  [/Promise\.withResolvers\b/, 'Promise.withResolvers (22)'],
  [/\bprocess\.getBuiltinModule\b/, 'process.getBuiltinModule (22.3)'],
  [/\bprocess\.loadEnvFile\b/, 'process.loadEnvFile (21.7)'],
  [/\b(glob|globSync)\b\s*\(/, 'fs.glob (22)'],
  [/\bstyleText\b/, 'util.styleText (21.7)'],
  [/\.(toSorted|toReversed|toSpliced)\(/, 'Array.prototype.toSorted/toReversed/toSpliced (20)'],
  [/\b(Object|Map)\.groupBy\b/, 'Object.groupBy/Map.groupBy (21)'],
  [/\bArray\.fromAsync\b/, 'Array.fromAsync (22)'],
  [/\.(union|intersection|difference|symmetricDifference|isSubsetOf)\(/, 'Set methods (22)'],
  [/\bfs\.openAsBlob\b|\bopenAsBlob\(/, 'fs.openAsBlob (19.8)'],
  [/\bcrypto\.hash\(|\bhash\(\s*'/, 'crypto.hash (21.7)'],
  [/allowNegative/, 'util.parseArgs allowNegative (20.16)'],
  [/\bnavigator\./, 'navigator (21)'],
  [/\bwithResolvers\b/, 'Promise.withResolvers (22)'],
  // readFileSync reads to the end on 18 too.
  [
    /\breadFile\(\s*['"`]\/proc\//,
    'fs.promises.readFile of a procfs file: Node 18 stops after the first page; use readProcFile (probes/mountinfo.ts)',
  ],
];

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('no API that Node 18.19 lacks in src/', () => {
  const files = sources(path.join(REPO, 'src'));

  it('scans every source file', () => {
    expect(files.length).toBeGreaterThan(50);
  });

  it('uses none of them', () => {
    const hits = files.flatMap((file) => {
      const lines = readFileSync(file, 'utf8').split('\n');
      return lines.flatMap((line, i) => {
        const code = line.replace(/\/\/.*$/, '').replace(/^\s*\*.*$/, '');
        return NOT_IN_NODE_18_19.filter(([re]) => re.test(code)).map(
          ([, what]) => `${path.relative(REPO, file)}:${i + 1}: ${what}`,
        );
      });
    });
    expect(hits).toEqual([]);
  });

  it('builds for node18 and says so in engines', () => {
    const pkg = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8'));
    expect(pkg.engines.node).toBe('>=18.19');
    // The report's bundle, guard's, and the entry that starts the report with its code cache.
    expect(pkg.scripts.build.match(/--target=node\d+/g)).toEqual([
      '--target=node18',
      '--target=node18',
      '--target=node18',
    ]);
  });
});

describe('readProcFile', () => {
  it("reads a procfs file to its end, as readFileSync does (Node 18's fs.promises.readFile stopped after one page)", async () => {
    const [a, b] = [await readProcFile('/proc/self/mountinfo'), readFileSync('/proc/self/mountinfo')];
    expect(a.toString('utf8')).toBe(b.toString('utf8'));
  });
});
