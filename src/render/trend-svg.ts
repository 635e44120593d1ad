import { SOURCE_LABELS } from '../model/attribution.js';
import { LAYER_KINDS, type ChartModel, type ChartPoint, type LayerKind } from '../model/trend/chart.js';
import { byteTicks, timeTicks } from './axes.js';
import { formatBytes } from '../text/bytes.js';
import { formatDuration } from '../text/duration.js';
import { xml } from '../text/escape.js';

/*
 * `preflight trend --svg`: the summary filesystem over the history as one
 * SVG, pure and deterministic (the same model gives the same bytes: no
 * clock, fixed decimals, fixed order). Every string from the system (mount,
 * host, step names, the history's problem) goes through xml().
 */

const W = 980;
const H = 560;
const P = { left: 84, top: 78, right: 690, bottom: 486 };
/** One point per pixel column is all the plot can show. */
export const PLOT_COLUMNS = P.right - P.left;
const LEGEND_X = 712;

const COLOURS: Record<LayerKind, string> = {
  'outside-docker': '#9e9e9e',
  'deleted-open': '#bab0ac',
  images: '#4e79a7',
  'dangling-images': '#a0cbe8',
  containers: '#f28e2b',
  'container-logs': '#e15759',
  volumes: '#59a14f',
  'build-cache': '#b07aa1',
  'overlay2-orphans': '#9c755f',
  'btrfs-orphans': '#edc948',
  unattributed: '#d9d9d9',
};
const LABELS: Record<LayerKind, string> = { ...SOURCE_LABELS, unattributed: 'used, not attributed (run cut short)' };
const INK = '#222';
const CLEANUP = '#1b8a7a';
const THRESHOLD = '#c0392b';

export interface TrendSvgInput {
  /** null: no run measured a filesystem yet. */
  model: ChartModel | null;
  days: number;
  thresholdPct: number;
  /** Why (part of) the history could not be read, shown under the title. */
  problem: string | null;
}

const n = (v: number) => v.toFixed(1);
const utc = (t: number) => new Date(t).toISOString().slice(0, 16).replace('T', ' ');
const text = (x: number, y: number, body: string, attrs = '') =>
  `<text x="${n(x)}" y="${n(y)}"${attrs ? ` ${attrs}` : ''}>${body}</text>`;
const line = (x1: number, y1: number, x2: number, y2: number, attrs: string) =>
  `<line x1="${n(x1)}" y1="${n(y1)}" x2="${n(x2)}" y2="${n(y2)}" ${attrs}/>`;
const path = (pts: [number, number][], attrs: string) =>
  `<polyline points="${pts.map(([x, y]) => `${n(x)},${n(y)}`).join(' ')}" fill="none" ${attrs}/>`;

export function renderTrendSvg(input: TrendSvgInput): string {
  const m = input.model;
  const title = m ? `Storage on ${m.mountpoint}` : 'Storage trend: no data yet';
  const body = m ? chart(m, input) : empty(input.days);
  const problem = input.problem ? [text(P.left, 64, xml(`history: ${input.problem}`, 120), `fill="${THRESHOLD}"`)] : [];
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="DejaVu Sans, Liberation Sans, Arial, sans-serif" font-size="11" fill="${INK}">`,
    `<title>${xml(`${title}, last ${input.days} days`, 400)}</title>`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    text(P.left, 28, xml(title, 64), 'font-size="18" font-weight="bold"'),
    ...problem,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}

function empty(days: number): string[] {
  const cx = (P.left + P.right) / 2;
  const cy = (P.top + P.bottom) / 2;
  return [
    text(P.left, 48, `No runs recorded in the last ${days} days.`, 'fill="#555"'),
    `<rect x="${P.left}" y="${P.top}" width="${P.right - P.left}" height="${P.bottom - P.top}" fill="none" stroke="#bbb" stroke-dasharray="4 4"/>`,
    text(cx, cy, 'no data yet', 'font-size="24" fill="#888" text-anchor="middle"'),
    text(
      cx,
      cy + 26,
      'Each preflight run adds a point; the chart fills in after a few runs.',
      'fill="#888" text-anchor="middle"',
    ),
  ];
}

function chart(m: ChartModel, input: TrendSvgInput): string[] {
  const all = m.segments.flat();
  const lastPoint = all[all.length - 1]!;
  const peak = Math.max(
    ...all.map((p) => Math.max(p.capacity, p.used, stacked(p, m.kinds))),
    m.forecast.kind === 'beyond' ? m.forecast.edgeBytes : 0,
  );
  const yAxis = byteTicks(peak * 1.04);
  const x = (t: number) => P.left + ((t - m.start) / (m.end - m.start)) * (P.right - P.left);
  const y = (b: number) => P.bottom - (b / yAxis.top) * (P.bottom - P.top);
  const xTicks = timeTicks(m.start, m.end);
  // A lone run between gaps is drawn 4 px wide, or it would not show at all.
  const halfPx = (2 * (m.end - m.start)) / (P.right - P.left);
  const segments = m.segments.map((s) =>
    s.length > 1
      ? s
      : [
          { ...s[0]!, t: s[0]!.t - halfPx },
          { ...s[0]!, t: s[0]!.t + halfPx },
        ],
  );
  const out: string[] = [
    text(
      P.left,
      48,
      xml(`${m.host} · ${m.runs} runs · ${utc(all[0]!.t)} – ${utc(m.last)} UTC · last ${input.days} days`, 140),
      'fill="#555"',
    ),
  ];
  for (const g of m.gaps) {
    const w = x(g.to) - x(g.from);
    out.push(`<rect x="${n(x(g.from))}" y="${P.top}" width="${n(w)}" height="${P.bottom - P.top}" fill="#f1f1f1"/>`);
    if (w > 44) out.push(text(x(g.from) + w / 2, P.top + 14, 'no runs', 'fill="#999" text-anchor="middle"'));
  }
  for (const t of yAxis.ticks) {
    out.push(
      line(P.left, y(t.value), P.right, y(t.value), 'stroke="#e6e6e6"'),
      text(P.left - 6, y(t.value) + 4, t.label, 'text-anchor="end"'),
    );
  }
  for (const t of xTicks) {
    out.push(
      line(x(t.value), P.top, x(t.value), P.bottom, 'stroke="#eee"'),
      text(x(t.value), P.bottom + 16, t.label, 'text-anchor="middle"'),
    );
  }
  for (const s of segments) {
    m.kinds.forEach((kind, k) => {
      if (s.every((p) => layer(p, kind) === 0)) return;
      const top = s.map((p): [number, number] => [x(p.t), y(stacked(p, m.kinds.slice(0, k + 1)))]);
      const bottom = s.map((p): [number, number] => [x(p.t), y(stacked(p, m.kinds.slice(0, k)))]).reverse();
      out.push(
        `<polygon points="${[...top, ...bottom].map(([a, b]) => `${n(a)},${n(b)}`).join(' ')}" fill="${COLOURS[kind]}"/>`,
      );
    });
    out.push(
      path(
        s.map((p) => [x(p.t), y(p.used)]),
        `stroke="${INK}" stroke-width="1.2"`,
      ),
    );
    out.push(
      path(
        s.map((p) => [x(p.t), y(p.capacity)]),
        `stroke="${INK}" stroke-width="2"`,
      ),
    );
    out.push(
      path(
        s.map((p) => [x(p.t), y((p.capacity * input.thresholdPct) / 100)]),
        `stroke="${THRESHOLD}" stroke-width="1.5" stroke-dasharray="6 4"`,
      ),
    );
  }
  // Capacity and threshold as last measured carry on to the right edge: the projection runs into them.
  out.push(
    line(
      x(lastPoint.t),
      y(lastPoint.capacity),
      P.right,
      y(lastPoint.capacity),
      `stroke="${INK}" stroke-width="2" stroke-opacity="0.5"`,
    ),
  );
  const threshold = (lastPoint.capacity * input.thresholdPct) / 100;
  out.push(
    line(
      x(lastPoint.t),
      y(threshold),
      P.right,
      y(threshold),
      `stroke="${THRESHOLD}" stroke-width="1.5" stroke-dasharray="6 4" stroke-opacity="0.5"`,
    ),
  );
  out.push(...cleanups(m, x), ...projection(m, x, y));
  out.push(
    line(P.left, P.top, P.left, P.bottom, `stroke="${INK}"`),
    line(P.left, P.bottom, P.right, P.bottom, `stroke="${INK}"`),
    text((P.left + P.right) / 2, P.bottom + 40, 'time (UTC)', 'text-anchor="middle" font-size="12"'),
    text(
      22,
      (P.top + P.bottom) / 2,
      'bytes used',
      `text-anchor="middle" font-size="12" transform="rotate(-90 22 ${n((P.top + P.bottom) / 2)})"`,
    ),
    ...legend(m, input.thresholdPct, lastPoint),
  );
  return out;
}

function layer(p: ChartPoint, kind: LayerKind): number {
  return p.layers[LAYER_KINDS.indexOf(kind)]!;
}

function stacked(p: ChartPoint, kinds: readonly LayerKind[]): number {
  return kinds.reduce((a, k) => a + layer(p, k), 0);
}

/** A dashed vertical line per run that applied clean-up, labelled with the bytes statfs saw freed; labels step down when they would collide. */
function cleanups(m: ChartModel, x: (t: number) => number): string[] {
  const rowEnds = [-Infinity, -Infinity, -Infinity];
  return m.remediations.map((r) => {
    const at = x(r.t);
    const row = Math.max(
      0,
      rowEnds.findIndex((end) => at > end + 6),
    );
    const label = `−${formatBytes(r.freed)}`;
    const right = at > P.right - 70;
    rowEnds[row] = at + 66;
    const steps = r.steps.map((s) => `${s.action} ${formatBytes(s.reclaimedBytes)}`).join('; ');
    return [
      `<g><title>${xml(`${utc(r.t)} UTC clean-up: ${steps}`, 400)}</title>`,
      line(at, P.top, at, P.bottom, `stroke="${CLEANUP}" stroke-width="1.5" stroke-dasharray="2 3"`),
      text(
        right ? at - 3 : at + 3,
        P.top + 12 + row * 13,
        label,
        `fill="${CLEANUP}" font-weight="bold"${right ? ' text-anchor="end"' : ''}`,
      ),
      '</g>',
    ].join('');
  });
}

function projection(m: ChartModel, x: (t: number) => number, y: (b: number) => number): string[] {
  const f = m.forecast;
  const style = `stroke="${INK}" stroke-width="1.5" stroke-dasharray="3 3"`;
  if (f.kind === 'full') {
    const [ex, ey] = [x(f.at), y(f.from.capacity)];
    return [
      line(x(f.from.t), y(f.from.used), ex, ey, style),
      `<circle cx="${n(ex)}" cy="${n(ey)}" r="3.5" fill="${INK}"/>`,
      text(ex - 6, ey - 8, `full ~${utc(f.at).slice(5)} UTC`, 'text-anchor="end" font-weight="bold"'),
    ];
  }
  if (f.kind === 'beyond') {
    return [
      line(x(f.from.t), y(f.from.used), P.right, y(f.edgeBytes), style),
      text(P.right - 4, y(f.edgeBytes) - 8, `full in ${formatDuration(f.ttfMs)} →`, 'text-anchor="end"'),
    ];
  }
  return [];
}

function legend(m: ChartModel, thresholdPct: number, last: ChartPoint): string[] {
  const out: string[] = [];
  let row = P.top;
  const item = (mark: string, label: string) => {
    out.push(mark, text(LEGEND_X + 22, row + 4, label));
    row += 18;
  };
  const sample = (attrs: string) => line(LEGEND_X, row, LEGEND_X + 16, row, attrs);
  for (const kind of [...m.kinds].reverse()) {
    item(
      `<rect x="${LEGEND_X}" y="${row - 5}" width="16" height="10" fill="${COLOURS[kind]}"/>`,
      xml(LABELS[kind], 40),
    );
  }
  item(sample(`stroke="${INK}" stroke-width="1.2"`), 'used (statfs)');
  item(sample(`stroke="${INK}" stroke-width="2"`), 'capacity (used + available)');
  item(sample(`stroke="${THRESHOLD}" stroke-width="1.5" stroke-dasharray="6 4"`), `disk threshold (${thresholdPct}%)`);
  const f = m.forecast;
  if (f.kind === 'full' || f.kind === 'beyond')
    item(sample(`stroke="${INK}" stroke-width="1.5" stroke-dasharray="3 3"`), `projection (${f.window})`);
  if (m.remediations.length)
    item(
      line(
        LEGEND_X + 8,
        row - 6,
        LEGEND_X + 8,
        row + 6,
        `stroke="${CLEANUP}" stroke-width="1.5" stroke-dasharray="2 3"`,
      ),
      'clean-up applied (bytes freed)',
    );
  if (m.gaps.length)
    item(
      `<rect x="${LEGEND_X}" y="${row - 5}" width="16" height="10" fill="#f1f1f1" stroke="#ccc"/>`,
      'no runs for over 1 h',
    );
  row += 10;
  const pct = last.capacity > 0 ? Math.ceil((last.used * 100) / last.capacity) : 0;
  // What a withheld forecast still needs goes on a line of its own: one line would run off the canvas.
  const forecast =
    f.kind === 'full' || f.kind === 'beyond'
      ? [`Full in ${formatDuration(f.ttfMs)} (${f.window})`]
      : f.kind === 'full-now'
        ? ['Full now']
        : f.kind === 'not-filling'
          ? [`Not filling (${f.window})`]
          : f.why.split(/ (?=\()/);
  const freed = m.remediations.reduce((a, r) => a + r.freed, 0);
  const steps = m.remediations.reduce((a, r) => a + r.steps.length, 0);
  const notes = [
    `Now: ${pct}% used, ${formatBytes(last.used)} of ${formatBytes(last.capacity)}`,
    ...forecast,
    ...(steps ? [`Clean-up: ${formatBytes(freed)} freed in ${steps} step${steps === 1 ? '' : 's'}`] : []),
  ];
  for (const note of notes) {
    out.push(text(LEGEND_X, row + 4, note, 'font-weight="bold"'));
    row += 16;
  }
  return out;
}
