/**
 * `btrfs qgroup show -re --raw PATH` (and -reF). Header varies by version:
 *   6.x: `Qgroupid    Referenced    Exclusive  Max referenced  Max exclusive   Path`
 *   4.x/5.x: `qgroupid         rfer         excl     max_rfer     max_excl`
 * Sample row (6.x): `0/257         20987904       987136            none           none   sv2`
 */
export interface QgroupRow {
  /** Subvolume id (the N of 0/N). */
  id: number;
  referenced: number;
  exclusive: number;
  /** 6.x only: subvolume path, `<toplevel>` or `<stale>` (deleted, space not yet back). */
  path: string | null;
}

const ROW = /^0\/(\d+)\s+(\d+)\s+(\d+)\s+(\S+)\s+(\S+)(?:\s+(.+?))?\s*$/;

export function parseQgroupShow(text: string): QgroupRow[] {
  const rows: QgroupRow[] = [];
  for (const line of text.split('\n')) {
    const m = ROW.exec(line.trim());
    if (m) rows.push({ id: Number(m[1]), referenced: Number(m[2]), exclusive: Number(m[3]), path: m[6] ?? null });
  }
  return rows;
}

/** Does this output (or error) say quotas are off? `ERROR: can't list qgroups: quotas not enabled` */
export function quotasDisabled(stderr: string): boolean {
  return /quotas not enabled/i.test(stderr);
}

/**
 * `btrfs filesystem du -s --raw PATH…`. Sample:
 *   `     Total   Exclusive  Set shared  Filename`
 *   `  50003968    30003200    20000768  qmnt/sv2`
 */
export function parseFilesystemDu(text: string): { total: number; exclusive: number; shared: number; path: string }[] {
  const rows = [];
  for (const line of text.split('\n')) {
    const m = /^\s*(\d+)\s+(\d+)\s+(\d+|-)\s+(.+)$/.exec(line);
    if (m)
      rows.push({ total: Number(m[1]), exclusive: Number(m[2]), shared: m[3] === '-' ? 0 : Number(m[3]), path: m[4]! });
  }
  return rows;
}

/**
 * `compsize -b PATH`. Sample:
 *   `Type       Perc     Disk Usage   Uncompressed Referenced`
 *   `TOTAL       47%     25939968     55005184     75005952`
 */
export function parseCompsize(text: string): { diskUsage: number; uncompressed: number; referenced: number } | null {
  const m = /^TOTAL\s+\d+%\s+(\d+)\s+(\d+)\s+(\d+)/m.exec(text);
  return m ? { diskUsage: Number(m[1]), uncompressed: Number(m[2]), referenced: Number(m[3]) } : null;
}
