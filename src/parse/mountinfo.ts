/** One line of /proc/self/mountinfo, unescaped. */
export interface MountEntry {
  mountId: number;
  parentId: number;
  /** "major:minor" of st_dev; identifies the filesystem (dedup key). */
  device: string;
  /** Path inside the filesystem that is mounted here (bind mounts, btrfs subvolumes). */
  root: string;
  mountpoint: string;
  mountOptions: string[];
  fstype: string;
  source: string;
  superOptions: string[];
  readonly: boolean;
  /**
   * The mount point's bytes, one char per byte (latin1), when they are not
   * valid UTF-8: `mountpoint` then shows U+FFFD for them, and only these
   * bytes reach the mount (a child decodes them; see probes/statfs.ts).
   */
  rawMountpoint?: string;
}

/**
 * The kernel escapes space, tab, newline and backslash as 3-digit octal:
 * a mount at "/mnt/a b" appears as `/mnt/a\040b`.
 */
export function unescapeMountField(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/**
 * Parse /proc/self/mountinfo (proc(5)). Malformed lines are skipped, never fatal.
 * Sample line:
 * `42 27 7:0 / /tmp/dd/mnt rw,relatime shared:1 - ext4 /dev/loop0 rw`
 */
export function parseMountinfo(text: string): MountEntry[] {
  const entries: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const entry = parseMountinfoLine(line);
    if (entry) entries.push(entry);
  }
  return entries;
}

/**
 * The table from its bytes: paths are UTF-8 where they can be; a mount point
 * that is not (any byte but NUL is allowed) keeps its bytes beside it.
 */
export function parseMountinfoBytes(bytes: Buffer): MountEntry[] {
  const entries: MountEntry[] = [];
  const strict = new TextDecoder('utf-8', { fatal: true });
  for (const raw of bytes.toString('latin1').split('\n')) {
    const line = Buffer.from(raw, 'latin1');
    let text: string;
    try {
      text = strict.decode(line);
    } catch {
      const shown = parseMountinfoLine(line.toString('utf8'));
      const exact = parseMountinfoLine(raw);
      if (shown && exact) entries.push({ ...shown, rawMountpoint: exact.mountpoint });
      continue;
    }
    const entry = parseMountinfoLine(text);
    if (entry) entries.push(entry);
  }
  return entries;
}

function parseMountinfoLine(line: string): MountEntry | undefined {
  const fields = line.trim().split(' ');
  const sep = fields.indexOf('-', 6);
  if (fields.length < 10 || sep < 0 || fields.length < sep + 3) return undefined;
  const [id, parent, device, root, mountpoint, options] = fields;
  if (!id || !parent || !device || !root || !mountpoint || !options) return undefined;
  if (!/^\d+:\d+$/.test(device)) return undefined;
  const mountOptions = options.split(',');
  const superOptions = (fields[sep + 3] ?? '').split(',');
  return {
    mountId: Number(id),
    parentId: Number(parent),
    device,
    root: unescapeMountField(root),
    mountpoint: unescapeMountField(mountpoint),
    mountOptions,
    fstype: unescapeMountField(fields[sep + 1]!),
    source: unescapeMountField(fields[sep + 2]!),
    superOptions,
    readonly: mountOptions.includes('ro') || superOptions.includes('ro'),
  };
}

/**
 * The mount holding an absolute, resolved path: the longest mountpoint that is
 * a prefix of it; among equal mountpoints the last listed (it covers the others).
 */
export function mountFor(table: readonly MountEntry[], resolved: string): MountEntry | undefined {
  let best: MountEntry | undefined;
  for (const m of table) {
    const mp = m.mountpoint;
    const holds = mp === '/' || resolved === mp || resolved.startsWith(mp.endsWith('/') ? mp : `${mp}/`);
    if (holds && (!best || mp.length >= best.mountpoint.length)) best = m;
  }
  return best;
}
