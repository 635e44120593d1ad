import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';

/**
 * A fresh folder under the temporary directory, handed to `use` before each
 * test (`each`) or once for the block (`all`), and removed after.
 */
export function useScratchDir(prefix: string, use: (dir: string) => void, scope: 'each' | 'all' = 'each'): void {
  let dir = '';
  const [before, after] = scope === 'each' ? [beforeEach, afterEach] : [beforeAll, afterAll];
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), prefix));
    use(dir);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });
}
