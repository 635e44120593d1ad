/**
 * A span in the unit that fits: `40 ms` (never `0 s` for 40 ms), `2.5 s`,
 * `12 min`, `3 h 20 min`, `24 h`, `7 days`.
 */
export function formatDuration(ms: number): string {
  if (Math.round(Math.abs(ms)) < 1000) return `${Math.round(ms)} ms`;
  if (Math.abs(ms) < 59_950) return `${oneDecimal(ms / 1000)} s`;
  const minutes = Math.round(ms / 60_000);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
  return `${Math.round(hours / 24)} days`;
}

/** One decimal, without a trailing `.0`. */
function oneDecimal(x: number): string {
  const s = x.toFixed(1);
  return s.endsWith('.0') ? s.slice(0, -2) : s;
}
