/**
 * `btrfs filesystem usage -b PATH`, every btrfs-progs version's text format.
 * Lines differ by version: `Device slack` (≥5.2), `Multiple profiles` (≥5.6.1),
 * `Free (statfs, df)` (≥5.10), the `(NN.NN%)` after Used (≥5.x); a 4.x
 * usage has none of them. Absent lines stay null, never 0.
 */

export interface BlockGroup {
  /** Data, Metadata, System. */
  type: string;
  /** single, DUP, RAID1, …. */
  profile: string;
  /** Logical bytes allocated to this type and profile. */
  size: number;
  used: number;
}

export interface BtrfsUsage {
  deviceSize: number | null;
  deviceAllocated: number | null;
  deviceUnallocated: number | null;
  deviceMissing: number | null;
  deviceSlack: number | null;
  used: number | null;
  freeEstimated: number | null;
  freeEstimatedMin: number | null;
  freeStatfs: number | null;
  dataRatio: number | null;
  metadataRatio: number | null;
  globalReserve: number | null;
  globalReserveUsed: number | null;
  multipleProfiles: boolean | null;
  groups: BlockGroup[];
  /** Devices listed under `Unallocated:`. */
  devices: string[];
}

/*
 * preflight always passes -b (raw bytes, btrfs-progs ≥ 3.18); human units
 * (`14.01GiB`) are read too, approximately, so cited outputs of versions
 * that cannot run here test the format. Unallocated may be negative while a
 * device is being removed (UNITS_NEGATIVE).
 */
const SIZE = '(-?[0-9]+(?:\\.[0-9]+)?(?:[KMGTPE]iB|B)?)';
// Sample: `    Device size:		         314572800` / `    Global reserve:		           5767168	(used: 0)`
const OVERALL = new RegExp(`^\\s+([A-Za-z][A-Za-z ()",]*?):\\s+(\\S+)(?:\\s+\\((?:min|used): ${SIZE}\\))?\\s*$`);
// Sample: `Data,single: Size:41943040, Used:20971520 (50.00%)` (before 5.4: no percentage)
const GROUP = new RegExp(`^(\\w+),(\\S+): Size:${SIZE}, Used:${SIZE}`);
// Sample: `   /dev/loop2	 188743680` (device lines under a group or Unallocated:)
const DEVICE_LINE = new RegExp(`^\\s+(\\/\\S+)\\s+${SIZE}\\s*$`);

const UNIT_FACTOR: Record<string, number> = {
  B: 1,
  KiB: 2 ** 10,
  MiB: 2 ** 20,
  GiB: 2 ** 30,
  TiB: 2 ** 40,
  PiB: 2 ** 50,
  EiB: 2 ** 60,
};

/** `41943040` → 41943040; `14.01GiB` → 15043128197 (rounded: human units are approximate). */
export function btrfsBytes(text: string): number {
  const m = /^(-?[0-9]+(?:\.[0-9]+)?)([KMGTPE]iB|B)?$/.exec(text.trim());
  if (!m) return NaN;
  return Math.round(Number(m[1]) * (UNIT_FACTOR[m[2] ?? 'B'] ?? 1));
}

export function parseBtrfsUsage(text: string): BtrfsUsage {
  const u: BtrfsUsage = {
    deviceSize: null,
    deviceAllocated: null,
    deviceUnallocated: null,
    deviceMissing: null,
    deviceSlack: null,
    used: null,
    freeEstimated: null,
    freeEstimatedMin: null,
    freeStatfs: null,
    dataRatio: null,
    metadataRatio: null,
    globalReserve: null,
    globalReserveUsed: null,
    multipleProfiles: null,
    groups: [],
    devices: [],
  };
  let inUnallocated = false;
  for (const line of text.split('\n')) {
    const group = GROUP.exec(line);
    if (group) {
      inUnallocated = false;
      u.groups.push({ type: group[1]!, profile: group[2]!, size: btrfsBytes(group[3]!), used: btrfsBytes(group[4]!) });
      continue;
    }
    if (/^Unallocated:/.test(line)) {
      inUnallocated = true;
      continue;
    }
    const device = DEVICE_LINE.exec(line);
    if (device) {
      if (inUnallocated && !u.devices.includes(device[1]!)) u.devices.push(device[1]!);
      continue;
    }
    // Sample: `    Multiple profiles:		               yes	(data, metadata)` (≥ 5.6.1)
    const multiple = /^\s+Multiple profiles:\s+(yes|no)\b/.exec(line);
    if (multiple) {
      u.multipleProfiles = multiple[1] === 'yes';
      continue;
    }
    const m = OVERALL.exec(line);
    if (!m) continue;
    const [, key, value, extra] = m;
    const n = btrfsBytes(value!);
    const extraBytes = extra === undefined ? null : btrfsBytes(extra);
    switch (key) {
      case 'Device size':
        u.deviceSize = n;
        break;
      case 'Device allocated':
        u.deviceAllocated = n;
        break;
      case 'Device unallocated':
        u.deviceUnallocated = n;
        break;
      case 'Device missing':
        u.deviceMissing = n;
        break;
      case 'Device slack':
        u.deviceSlack = n;
        break;
      case 'Used':
        u.used = n;
        break;
      case 'Free (estimated)':
        u.freeEstimated = n;
        u.freeEstimatedMin = extraBytes;
        break;
      case 'Free (statfs, df)':
        u.freeStatfs = n;
        break;
      case 'Data ratio':
        u.dataRatio = Number(value);
        break;
      case 'Metadata ratio':
        u.metadataRatio = Number(value);
        break;
      case 'Global reserve':
        u.globalReserve = n;
        u.globalReserveUsed = extraBytes;
        break;
      default:
        break;
    }
  }
  return u;
}

/** Sum of a block-group type across profiles (a conversion leaves two). */
export function groupTotals(groups: readonly BlockGroup[], type: string): { size: number; used: number } | null {
  const of = groups.filter((g) => g.type === type);
  if (of.length === 0) return null;
  return { size: of.reduce((a, g) => a + g.size, 0), used: of.reduce((a, g) => a + g.used, 0) };
}
