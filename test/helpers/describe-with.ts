import { describe } from 'vitest';
import { missingFor } from './tools.js';

/**
 * describe() for tests that need real tools (dockerd, bindfs, mkfs.btrfs, root).
 * Where they are missing the block is skipped with a loud reason; under CI
 * (CI set) it fails instead, so a CI that cannot run the engines is red.
 */
export function describeWith(
  tools: readonly string[],
  name: string,
  body: () => void,
  opts: { root?: boolean; install?: string } = {},
): void {
  const missing = missingFor(tools, opts.root ?? true);
  if (missing.length === 0) {
    describe(name, body);
    return;
  }
  const install = opts.install ?? 'docker.io btrfs-progs btrfs-compsize busybox-static bindfs';
  const reason = `needs ${missing.join(', ')} (run .ci/run, or apt-get install ${install} as root)`;
  if (process.env.CI) {
    describe(name, () => {
      throw new Error(`CI must run real-engine tests, but this machine lacks: ${reason}`);
    });
    return;
  }
  process.stderr.write(`\n*** SKIPPING "${name}": ${reason} ***\n`);
  describe.skip(`${name} [SKIPPED: ${reason}]`, body);
}
