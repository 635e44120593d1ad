import type { BlockGroup } from './btrfs-usage.js';

/**
 * `btrfs filesystem df -b PATH`. Sample lines:
 *   `Data, single: total=41943040, used=20971520`
 *   `GlobalReserve, single: total=5767168, used=0`
 * The GlobalReserve line is included (it is the reserve, not a block group).
 */
const DF_LINE = /^(\w+), ([^:]+): total=(\d+), used=(\d+)\s*$/;

export function parseBtrfsDf(text: string): BlockGroup[] {
  const groups: BlockGroup[] = [];
  for (const line of text.split('\n')) {
    const m = DF_LINE.exec(line.trim());
    if (m) groups.push({ type: m[1]!, profile: m[2]!, size: Number(m[3]), used: Number(m[4]) });
  }
  return groups;
}

/**
 * `btrfs --format json filesystem df PATH` (btrfs-progs ≥ 6.1): numbers are strings.
 * Sample: {"filesystem-df":[{"bg-type":"Data","bg-profile":"single","total":"41943040","used":"20971520"}]}
 */
export function parseBtrfsDfJson(text: string): BlockGroup[] {
  const doc = JSON.parse(text) as { 'filesystem-df'?: Record<string, unknown>[] };
  return (doc['filesystem-df'] ?? []).map((g) => ({
    type: String(g['bg-type'] ?? ''),
    profile: String(g['bg-profile'] ?? ''),
    size: Number(g.total ?? 0),
    used: Number(g.used ?? 0),
  }));
}
