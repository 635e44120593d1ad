import { execa } from 'execa';
import { mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe } from 'vitest';
import { REPO } from './preflight.js';

export const NODE18_VERSION = process.env.NODE18_VERSION ?? '18.19.0';

export type Node18 = { binary: string; reason?: undefined } | { binary?: undefined; reason: string };

/**
 * A Node.js 18.19 binary (the agents container's runtime): PREFLIGHT_NODE18
 * when set (say /usr/bin/node on a Debian 12 host), else fetched once from
 * the npm registry by test/helpers/fetch-node18.sh into .cache/ (as .ci/run
 * does before the tests).
 */
export async function obtainNode18(): Promise<Node18> {
  if (process.env.PREFLIGHT_NODE18) return { binary: process.env.PREFLIGHT_NODE18 };
  const res = await execa('bash', [path.join(REPO, 'test/helpers/fetch-node18.sh')], {
    reject: false,
    timeout: 180_000,
    stdin: 'ignore',
    env: { NODE18_VERSION },
  });
  if (res.exitCode === 0) return { binary: String(res.stdout).trim() };
  const why = String(res.stderr).trim().split('\n').filter(Boolean).slice(-2).join(' ') || `exit ${res.exitCode}`;
  return { reason: `no Node.js ${NODE18_VERSION} binary (test/helpers/fetch-node18.sh: ${why.slice(0, 300)})` };
}

/**
 * A PATH whose `node` is this binary, so `./preflight` (`#!/usr/bin/env
 * node`) runs under it as it would in the agents container.
 */
export function pathWithNode(binary: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'pf-node-'));
  symlinkSync(binary, path.join(dir, 'node'));
  return `${dir}:${process.env.PATH ?? '/usr/bin:/bin'}`;
}

/**
 * describe() for tests that need the Node 18 binary: skipped with a loud
 * reason where it cannot be had; under CI (CI set) it fails instead.
 */
export function describeWithNode18(node18: Node18, name: string, body: (binary: string) => void): void {
  if (node18.binary !== undefined) {
    const binary = node18.binary;
    describe(name, () => body(binary));
    return;
  }
  if (process.env.CI) {
    describe(name, () => {
      throw new Error(`CI must run the Node 18 tests, but: ${node18.reason}`);
    });
    return;
  }
  process.stderr.write(`\n*** SKIPPING "${name}": ${node18.reason} ***\n`);
  describe.skip(`${name} [SKIPPED: ${node18.reason}]`, () => body(''));
}
