const UNITS = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];

/** Past 2^63 (8 EiB, the kernel's own limit) a figure is a bug, not a size. */
const ABSURD_BYTES = 2 ** 63;

/** IEC units for people: `512 B`, `1.0 KiB`, `12.3 GiB`. Exact bytes belong in JSON. */
export function formatBytes(bytes: number): string {
  // Never `8.67e+289 EiB` or `NaN B`: an impossible figure must not read as a fact.
  if (!Number.isFinite(bytes) || Math.abs(bytes) > ABSURD_BYTES) return '?';
  const sign = bytes < 0 ? '-' : '';
  let value = Math.abs(bytes);
  if (value < 1024) return `${sign}${value} B`;
  let unit = -1;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  // 1023.96 GiB would print as "1024.0 GiB": carry into the next unit.
  if (Number(value.toFixed(1)) >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${sign}${value.toFixed(1)} ${UNITS[unit]}`;
}
