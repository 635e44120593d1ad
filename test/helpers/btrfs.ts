import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { sh } from './tools.js';

/**
 * Subvolumes shaped like Docker's btrfs layers (64-hex names) that no
 * layerdb file references: what a crashed daemon or a botched removal
 * leaves behind (moby#9939). Each holds `mib` MiB of incompressible data.
 */
export async function createOrphanSubvolumes(dataRoot: string, count: number, mib: number): Promise<string[]> {
  const names: string[] = [];
  for (let i = 0; i < count; i += 1) {
    const name = randomBytes(32).toString('hex');
    const dir = `${dataRoot}/btrfs/subvolumes/${name}`;
    await sh('btrfs', ['subvolume', 'create', dir]);
    await writeFile(`${dir}/payload`, randomBytes(mib * 1024 * 1024));
    names.push(name);
  }
  await sh('sync', []);
  return names;
}
