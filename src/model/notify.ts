import { plain } from '../text/escape.js';
import type { HistoryRecord, NotifiedAlert, NotifyKind } from './history.js';
import type { AlertState } from './trend/alerts.js';

export type { NotifiedAlert, NotifyKind } from './history.js';

/*
 * Notifications, pure: which alert changes a run tells the --notify targets
 * about, the one message it sends, and each target's request. The URL is a
 * secret (a token in its path or query): only `redactUrl` of it is ever shown.
 */

export type TargetFormat = 'json' | 'slack' | 'discord' | 'telegram' | 'ntfy';

export interface NotifyTargetResult {
  /** Scheme and host only: `https://hooks.slack.com/…`. */
  target: string;
  format: TargetFormat;
  ok: boolean;
  /** Why it failed (HTTP status, timeout, refused); never the URL. */
  reason: string | null;
}

export interface NotifyData {
  /** The message sent, null when nothing was news this run. */
  message: string | null;
  /** The alert notifications the history keeps (only when at least one target took the message). */
  sent: NotifiedAlert[];
  targets: NotifyTargetResult[];
}

/** Re-alert while a condition holds, counted from the last notification of its streak. */
export const DEFAULT_NOTIFY_COOLDOWN_MS = 6 * 3_600_000;

/** One target's share of the budget: a hung webhook costs this, no more. */
export const NOTIFY_TIMEOUT_MS = 5000;

/** `https://hooks.slack.com/services/T0/B0/xyz` → `https://hooks.slack.com/…`; never throws. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.hostname}/…`;
  } catch {
    return 'an unparsable URL';
  }
}

/** A --notify value: an http(s) URL, or ntfy:// (sent as https). Returns the problem, or null. */
export function notifyUrlProblem(url: string): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'not a URL';
  }
  if (!['http:', 'https:', 'ntfy:'].includes(u.protocol)) return `${u.protocol} is not http, https or ntfy`;
  if (u.username || u.password) return 'credentials in the URL are not supported (put the token in its path)';
  return null;
}

/** The body format a URL is sent in, by its host and path. */
export function targetFormat(url: string): TargetFormat {
  const u = new URL(url);
  const host = u.hostname.toLowerCase();
  if (u.protocol === 'ntfy:' || host === 'ntfy.sh' || host.startsWith('ntfy.')) return 'ntfy';
  if (host === 'hooks.slack.com' || u.pathname.startsWith('/hooks/')) return 'slack';
  if ((host === 'discord.com' || host === 'discordapp.com') && u.pathname.startsWith('/api/webhooks/'))
    return 'discord';
  // Sample: `https://api.telegram.org/bot123456:ABC-def/sendMessage?chat_id=-100123`.
  if (host === 'api.telegram.org' && /^\/bot[^/]+\/sendMessage$/.test(u.pathname)) return 'telegram';
  return 'json';
}

export interface NotifyRequest {
  /** Where to POST: ntfy:// becomes https://. */
  url: string;
  contentType: string;
  body: string;
}

/** The POST for one target. */
export function notifyRequest(url: string, text: string, event: unknown): NotifyRequest {
  const u = new URL(url);
  const json = (v: unknown): NotifyRequest => ({
    url,
    contentType: 'application/json',
    body: JSON.stringify(v),
  });
  switch (targetFormat(url)) {
    case 'slack':
      // Slack reads <…> as links and mentions (`<!channel>`); its docs ask for these three escaped.
      return json({ text: text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;') });
    case 'discord':
      // Discord refuses content over 2,000 characters; a name like `@everyone` must not ping anyone.
      return json({ content: text.slice(0, 1900), allowed_mentions: { parse: [] } });
    case 'telegram':
      return json({ chat_id: u.searchParams.get('chat_id'), text: text.slice(0, 4000) });
    case 'ntfy':
      // The URL setter cannot turn ntfy: into https: (special schemes): rebuilt from its parts.
      return {
        url: u.protocol === 'ntfy:' ? `https://${u.host}${u.pathname}${u.search}` : url,
        contentType: 'text/plain; charset=utf-8',
        body: text,
      };
    default:
      return json(event);
  }
}

/** The last notification of `key` in the history (newest first), with its record's time. */
function lastNotified(records: readonly HistoryRecord[], key: string): { at: string; kind: NotifyKind } | null {
  for (let i = records.length - 1; i >= 0; i -= 1) {
    const n = records[i]!.notified?.find((x) => x.key === key);
    if (n) return { at: records[i]!.at, kind: n.kind };
  }
  return null;
}

export interface AlertEvent {
  state: AlertState;
  kind: NotifyKind;
}

/**
 * What is news to the targets this run, from the alert states of this run
 * against the history before it: a raise; a condition that holds and was
 * last told of `cooldownMs` ago or more (or never in this streak: a failed
 * send is tried again next run); a recovery of one that was told of.
 */
export function alertEvents(
  states: readonly AlertState[],
  history: readonly HistoryRecord[],
  now: Date,
  cooldownMs: number,
): AlertEvent[] {
  const out: AlertEvent[] = [];
  for (const s of states) {
    const last = lastNotified(history, s.key);
    if (s.state === 'new') out.push({ state: s, kind: 'raise' });
    else if (s.state === 'ongoing') {
      const told = last && last.kind !== 'recovered' && Date.parse(last.at) >= Date.parse(s.since) ? last : null;
      if (!told) out.push({ state: s, kind: 'raise' });
      else if (now.getTime() - Date.parse(told.at) >= cooldownMs) out.push({ state: s, kind: 're-alert' });
    } else if (s.state === 'recovered' && last && last.kind !== 'recovered') out.push({ state: s, kind: 'recovered' });
  }
  return out;
}

/** What the message says besides the alerts: every part is plain text already. */
export interface Verdict {
  host: string;
  /** `disk-high@/var/lib/docker` → e.g. `images 12.0 GiB of 40.0 GiB used`. */
  topSource: string | null;
  /** e.g. `+1.2 GiB/h over 24h, full in 5h`. */
  growth: string | null;
  /** The Docker objects that grow, e.g. `volume pgdata +2.1 GiB/h over 24 h`. */
  growing: string | null;
  /** e.g. `clean-up freed 3.1 GiB (target reached)`. */
  done: string | null;
  /** What a person must do: the top finding's action, or a filed vault item. */
  todo: string | null;
}

const LABEL: Record<NotifyKind, string> = { raise: 'RAISED', 're-alert': 'STILL FIRING', recovered: 'RECOVERED' };

/** The message: one line per event, then the verdict; short, plain text. */
export function notifyMessage(events: readonly AlertEvent[], v: Verdict): string {
  const lines = [`storage-preflight on ${plain(v.host, 255)}`];
  for (const e of events) {
    const since = e.kind === 're-alert' ? ` since ${e.state.since} (${e.state.runs} runs)` : '';
    const on = e.state.mountpoint ? ` on ${plain(e.state.mountpoint, 200)}` : '';
    lines.push(`${LABEL[e.kind]}: ${e.state.name} (${e.state.severity})${on}${since}`);
  }
  if (v.topSource) lines.push(`Top source: ${plain(v.topSource, 300)}`);
  if (v.growth) lines.push(`Growth: ${plain(v.growth, 200)}`);
  if (v.growing) lines.push(`Growing: ${plain(v.growing, 300)}`);
  if (v.done) lines.push(`Done: ${plain(v.done, 300)}`);
  if (v.todo) lines.push(`To do: ${plain(v.todo, 400)}`);
  return lines.join('\n');
}
