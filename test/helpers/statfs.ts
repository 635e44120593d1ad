import { execa } from 'execa';

/** statfs of a mount as df counts it: used, available, and capacity = used + available (bytes). */
export async function statfsOf(mount: string): Promise<{ used: number; avail: number; capacity: number }> {
  const { stdout } = await execa('stat', ['-f', '-c', '%S %b %f %a', mount]);
  const [frsize, blocks, bfree, bavail] = String(stdout).trim().split(' ').map(Number) as [
    number,
    number,
    number,
    number,
  ];
  const used = (blocks - bfree) * frsize;
  return { used, avail: bavail * frsize, capacity: used + bavail * frsize };
}

/** Fill `mount` to `share` of its capacity (statfs used) with one file outside Docker, whole MiB. */
export async function fillTo(mount: string, share: number, file = 'filler'): Promise<void> {
  const MiB = 1024 * 1024;
  const { used, capacity } = await statfsOf(mount);
  await execa('fallocate', ['-l', String(Math.floor((capacity * share - used) / MiB) * MiB), `${mount}/${file}`]);
}
