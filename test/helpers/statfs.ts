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
