/** A duration in the unit that fits: `40 ms`, `2.5 s`, `3 min`, `5 h`, `3 days` (never `0 s` for 40 ms). */
export function formatDuration(ms: number): string {
  const a = Math.abs(ms);
  if (Math.round(a) < 1000) return `${Math.round(ms)} ms`;
  if (a < 60_000) return `${trim(ms / 1000)} s`;
  if (a < 3_600_000) return `${trim(ms / 60_000)} min`;
  if (a < 48 * 3_600_000) return `${trim(ms / 3_600_000)} h`;
  return `${Math.round(ms / 86_400_000)} days`;
}

/** One decimal, without a trailing `.0`. */
const trim = (x: number) => {
  const s = x.toFixed(1);
  return s.endsWith('.0') ? s.slice(0, -2) : s;
};
