import { formatBytes } from '../render/bytes.js';
import { inline } from '../render/escape.js';

/** The figures one run leaves in the journal: what trends and alert state need. */
export interface JournalEntry {
  v: 1;
  /** ISO time of the run. */
  at: string;
  /** Tells apart runs that start in the same millisecond (two supervisor loops). */
  id?: string;
  host: string;
  /** The filesystem the Disk line is about (Docker's data root, else /). */
  summaryMount: string | null;
  filesystems: {
    mountpoint: string;
    usedBytes: number;
    sizeBytes: number;
    availBytes: number;
    usedPct: number;
    inodesUsedPct: number | null;
  }[];
  /** Attribution of the summary filesystem: kind → bytes. */
  sources: Record<string, number>;
  driver: string | null;
  counts: { images: number; containers: number; volumes: number; buildCache: number } | null;
  churn: { repository: string; builds24h: number; danglingVersions: number; danglingBytes: number }[];
  fired: { name: string; severity: string; mountpoint?: string }[];
  /** Clean-up applied by this run (remediation work adds to it). */
  remediation: { action: string; reclaimedBytes: number }[];
}

/** The fence that marks our machine-readable block among the LLM's prose. */
export const ENTRY_FENCE = '```yaml preflight-entry';

/**
 * One entry: a short human block, then the figures as one line of JSON
 * (valid YAML flow style) in a fenced block, so both people and the parser
 * read it, and so foreign text around it never changes its meaning.
 */
export function formatEntry(e: JournalEntry): string {
  const time = e.at.slice(11, 16);
  const summary = e.filesystems.find((f) => f.mountpoint === e.summaryMount);
  const top = Object.entries(e.sources).sort((a, b) => b[1] - a[1]).slice(0, 2);
  const lines = [`### Storage preflight — ${time} UTC`];
  if (summary) {
    lines.push(`- Disk: ${summary.usedPct}% used (${formatBytes(summary.usedBytes)}/${formatBytes(summary.sizeBytes)} on ${inline(summary.mountpoint)})`);
  }
  if (top.length) lines.push(`- Top sources: ${top.map(([k, b]) => `${k} ${formatBytes(b)}`).join(', ')}`);
  lines.push(`- Fired: ${e.fired.length ? e.fired.map((f) => `${f.name} (${f.severity})`).join(', ') : 'nothing'}`);
  return `\n${lines.join('\n')}\n\n${ENTRY_FENCE}\n${JSON.stringify(e)}\n\`\`\`\n`;
}

export interface ParsedJournal {
  entries: JournalEntry[];
  /** Our fenced blocks that could not be read (truncated, edited, corrupt). */
  unreadable: number;
}

/** Find our entries among anything else; never throws. */
export function parseJournal(text: string): ParsedJournal {
  const entries: JournalEntry[] = [];
  let unreadable = 0;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i += 1) {
    if (lines[i]!.trim() !== ENTRY_FENCE) continue;
    const body: string[] = [];
    let closed = false;
    for (i += 1; i < lines.length; i += 1) {
      if (lines[i]!.trim() === '```') {
        closed = true;
        break;
      }
      if (lines[i]!.trim() === ENTRY_FENCE) {
        i -= 1; // a new entry began before this one closed
        break;
      }
      body.push(lines[i]!);
    }
    const entry = closed ? readEntry(body.join('\n')) : null;
    if (entry) entries.push(entry);
    else unreadable += 1;
  }
  return { entries, unreadable };
}

const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isStr = (v: unknown): v is string => typeof v === 'string';
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Our entries can be edited by hand or by the LLM: every field is checked
 * for its type, and a block that fails any check is unreadable, never half-used.
 */
function readEntry(text: string): JournalEntry | null {
  let e: unknown;
  try {
    e = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isObj(e) || e.v !== 1 || (e.id !== undefined && !isStr(e.id)) || !isStr(e.at) || !ISO_TIME.test(e.at) || Number.isNaN(Date.parse(e.at))) return null;
  const filesystems = e.filesystems;
  if (!Array.isArray(filesystems) || !filesystems.every((f) => isObj(f) && isStr(f.mountpoint)
    && isNum(f.usedBytes) && isNum(f.sizeBytes) && isNum(f.availBytes) && isNum(f.usedPct)
    && (f.inodesUsedPct === null || isNum(f.inodesUsedPct)))) return null;
  const sources = e.sources ?? {};
  if (!isObj(sources) || !Object.values(sources).every(isNum)) return null;
  const fired = e.fired ?? [];
  if (!Array.isArray(fired) || !fired.every((f) => isObj(f) && isStr(f.name) && isStr(f.severity) && (f.mountpoint === undefined || isStr(f.mountpoint)))) return null;
  const churn = e.churn ?? [];
  if (!Array.isArray(churn) || !churn.every((c) => isObj(c) && isStr(c.repository) && isNum(c.builds24h) && isNum(c.danglingVersions) && isNum(c.danglingBytes))) return null;
  const remediation = e.remediation ?? [];
  if (!Array.isArray(remediation)) return null;
  return {
    ...(e as unknown as JournalEntry),
    summaryMount: isStr(e.summaryMount) ? e.summaryMount : null,
    sources: sources as Record<string, number>,
    churn: churn as JournalEntry['churn'],
    fired: fired as JournalEntry['fired'],
    remediation: remediation as JournalEntry['remediation'],
  };
}
