/** A point in time (ms) and a value. */
export interface Point {
  t: number;
  v: number;
}

export interface LinearFit {
  /** Units per millisecond. */
  slope: number;
  intercept: number;
  points: number;
}

/**
 * Ordinary least squares over every point, as Prometheus deriv() and
 * predict_linear() do (not first-vs-last, so one odd sample moves it little).
 * Time is centred to keep the sums exact for epoch milliseconds.
 */
export function leastSquares(points: readonly Point[]): LinearFit | null {
  if (points.length < 2) return null;
  const t0 = points[0]!.t;
  const n = points.length;
  let st = 0;
  let sv = 0;
  for (const p of points) {
    st += p.t - t0;
    sv += p.v;
  }
  const mt = st / n;
  const mv = sv / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    const dt = p.t - t0 - mt;
    num += dt * (p.v - mv);
    den += dt * dt;
  }
  if (den === 0) return null;
  const slope = num / den;
  return { slope, intercept: mv - slope * (mt + t0), points: n };
}

/** The fitted value at time t. */
export function valueAt(fit: LinearFit, t: number): number {
  return fit.intercept + fit.slope * t;
}

/**
 * Time until `limit` at the fitted rate, from `now` (predict_linear): null
 * when flat or shrinking ("not filling").
 */
export function timeToLimitMs(fit: LinearFit, limit: number, now: number): number | null {
  if (fit.slope <= 0) return null;
  return Math.max(0, (limit - valueAt(fit, now)) / fit.slope);
}

const SPARKS = '▁▂▃▄▅▆▇█';

/** A sparkline of values in [0, 100] (used %): one character per bucket, `·` for an empty one. */
export function sparkline(points: readonly Point[], from: number, to: number, buckets: number): string {
  const width = (to - from) / buckets;
  const chars: string[] = [];
  for (let b = 0; b < buckets; b += 1) {
    const inBucket = points.filter((p) => p.t >= from + b * width && p.t < from + (b + 1) * width);
    if (inBucket.length === 0) {
      chars.push('·');
      continue;
    }
    const v = Math.max(...inBucket.map((p) => p.v));
    chars.push(SPARKS[Math.min(SPARKS.length - 1, Math.max(0, Math.floor((v / 100) * SPARKS.length)))]!);
  }
  return chars.join('');
}
