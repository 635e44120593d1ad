/** Axis ticks for charts: round times in UTC, round sizes in IEC units. */

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const TIME_STEPS = [
  10 * MIN,
  15 * MIN,
  30 * MIN,
  HOUR,
  2 * HOUR,
  3 * HOUR,
  6 * HOUR,
  12 * HOUR,
  DAY,
  2 * DAY,
  7 * DAY,
  14 * DAY,
  30 * DAY,
  91 * DAY,
  365 * DAY,
];

export interface Tick {
  value: number;
  label: string;
}

/**
 * At most `most` ticks at multiples of a round step: epoch multiples of a
 * day are UTC midnights, of 6 h are 00/06/12/18 UTC. A tick at midnight
 * shows the date, the others the time of day.
 */
export function timeTicks(from: number, to: number, most = 8): Tick[] {
  const step = TIME_STEPS.find((s) => (to - from) / s <= most) ?? TIME_STEPS[TIME_STEPS.length - 1]!;
  const ticks: Tick[] = [];
  for (let t = Math.ceil(from / step) * step; t <= to; t += step) {
    const iso = new Date(t).toISOString();
    const label = step >= 30 * DAY ? iso.slice(0, 10) : t % DAY === 0 ? iso.slice(5, 10) : iso.slice(11, 16);
    ticks.push({ value: t, label });
  }
  return ticks;
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
const STEPS = [0.1, 0.2, 0.25, 0.5, 1, 2, 2.5, 5, 10, 20, 25, 50, 100, 200, 250, 500];

/**
 * Ticks from 0 to a round top at or above `max`, at most `most` steps, in
 * the one IEC unit `max` reads best in (`0 GiB`, `50 GiB`, … `250 GiB`).
 */
export function byteTicks(max: number, most = 6): { top: number; ticks: Tick[] } {
  let unit = 1;
  let k = 0;
  while (max >= 1024 * unit && k < UNITS.length - 1) {
    unit *= 1024;
    k += 1;
  }
  // Whole bytes only: no `0.5 B` tick.
  const s = STEPS.find((x) => (k > 0 || x >= 1) && max / unit / x <= most) ?? 500;
  const step = s * unit;
  const count = Math.max(1, Math.ceil(max / step));
  const ticks = Array.from({ length: count + 1 }, (_, i) => ({
    value: i * step,
    label: `${Number((i * s).toFixed(2))} ${UNITS[k]}`,
  }));
  return { top: count * step, ticks };
}
