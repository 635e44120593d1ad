import { describe, expect, it } from 'vitest';
import { formatRecord, parseHistory, type HistoryRecord } from '../../src/model/history.js';
import {
  alertEvents,
  notifyMessage,
  notifyRequest,
  notifyUrlProblem,
  redactUrl,
  targetFormat,
} from '../../src/model/notify.js';
import { alertStates } from '../../src/model/trend/alerts.js';
import { GiB, HOUR, historyRecord } from '../helpers/history.js';

const T0 = Date.parse('2026-12-01T00:00:00Z');
const M = '/var/lib/docker';
const high = { name: 'disk-high', severity: 'P1' as const, mountpoint: M };

/** A run every 20 minutes from T0; `firing[i]` says whether disk-high fired in run i; `told[i]` what it notified. */
function runs(firing: boolean[], told: (HistoryRecord['notified'] | undefined)[] = []): HistoryRecord[] {
  return firing.map((f, i) =>
    historyRecord(T0 + i * 20 * 60_000, (f ? 85 : 50) * GiB, {
      over: { fired: f ? [high] : [], ...(told[i] ? { notified: told[i] } : {}) },
    }),
  );
}

/** What the latest run of `records` notifies, with a 6 h cooldown. */
function events(records: HistoryRecord[]) {
  const now = new Date(records.at(-1)!.at);
  return alertEvents(alertStates(records), records.slice(0, -1), now, 6 * HOUR).map((e) => e.kind);
}

const KEY = `disk-high@${M}`;

describe('what is news to the notification targets', () => {
  it('a raise once, then nothing while it holds within the cooldown', () => {
    expect(events(runs([false, true]))).toEqual(['raise']);
    expect(events(runs([true, true], [[{ key: KEY, kind: 'raise' }]]))).toEqual([]);
  });

  it('a re-alert once the cooldown has passed since the last notification of the streak', () => {
    // 19 runs × 20 min = 6 h 20 min after the raise.
    const firing = Array.from({ length: 20 }, () => true);
    expect(events(runs(firing, [[{ key: KEY, kind: 'raise' }]]))).toEqual(['re-alert']);
    const told = Array.from({ length: 20 }, (_, i) =>
      i === 10 ? [{ key: KEY, kind: 're-alert' as const }] : undefined,
    );
    // Told at run 10 (of the streak): the cooldown counts from there, not from the raise.
    expect(events(runs(firing, told))).toEqual([]);
  });

  it('a raise that no target took is sent at the next run', () => {
    expect(events(runs([false, true, true]))).toEqual(['raise']);
  });

  it('a notification of an earlier streak does not count for this one', () => {
    const told = [[{ key: KEY, kind: 'raise' as const }], [{ key: KEY, kind: 'recovered' as const }]];
    expect(events(runs([true, false, true, true], told))).toEqual(['raise']);
  });

  it('a recovery once, only of an alert that was told of', () => {
    expect(events(runs([true, false], [[{ key: KEY, kind: 'raise' }]]))).toEqual(['recovered']);
    expect(events(runs([true, false]))).toEqual([]);
  });
});

describe('the notified field of the history', () => {
  it('reads back; a record with a bad one is unreadable; records without one still read', () => {
    const [r] = runs([true], [[{ key: KEY, kind: 'raise' }]]);
    const bad = { ...r!, notified: [{ key: KEY, kind: 'shouted' }] } as unknown as HistoryRecord;
    const plain = runs([true])[0]!;
    const parsed = parseHistory(formatRecord(r!) + formatRecord(bad) + formatRecord(plain));
    expect(parsed.records).toEqual([r, plain]);
    expect(parsed.unreadable).toBe(1);
  });
});

describe('targets', () => {
  it.each([
    ['https://hooks.slack.com/services/T0/B0/xyz', 'slack'],
    ['https://chat.example.com/hooks/abc123', 'slack'],
    ['https://discord.com/api/webhooks/1/tok', 'discord'],
    ['https://api.telegram.org/bot123:ABC/sendMessage?chat_id=-100', 'telegram'],
    ['https://ntfy.sh/storage', 'ntfy'],
    ['ntfy://ntfy.example.com/storage', 'ntfy'],
    ['https://example.com/webhook/tok', 'json'],
  ])('%s is %s', (url, format) => {
    expect(targetFormat(url)).toBe(format);
  });

  it('bodies by format', () => {
    expect(JSON.parse(notifyRequest('https://discord.com/api/webhooks/1/t', 'hi @everyone', {}).body)).toEqual({
      content: 'hi @everyone',
      allowed_mentions: { parse: [] },
    });
    expect(JSON.parse(notifyRequest('https://hooks.slack.com/x', 'a <!channel> & b', {}).body)).toEqual({
      text: 'a &lt;!channel&gt; &amp; b',
    });
    expect(JSON.parse(notifyRequest('https://api.telegram.org/bot1:A/sendMessage?chat_id=42', 'hi', {}).body)).toEqual({
      chat_id: '42',
      text: 'hi',
    });
    expect(notifyRequest('ntfy://ntfy.example.com/t', 'hi', {})).toEqual({
      url: 'https://ntfy.example.com/t',
      contentType: 'text/plain; charset=utf-8',
      body: 'hi',
    });
  });

  it('a URL is named by its scheme and host only; bad ones are refused', () => {
    expect(redactUrl('https://hooks.slack.com/services/T0/B0/secret?x=1')).toBe('https://hooks.slack.com/…');
    expect(redactUrl('not a url secret')).toBe('an unparsable URL');
    expect(notifyUrlProblem('https://u:p@example.com/x')).toMatch(/credentials/);
    expect(notifyUrlProblem('ftp://example.com/x')).toMatch(/not http/);
    expect(notifyUrlProblem('https://example.com/x')).toBeNull();
  });
});

describe('the message', () => {
  it('is plain text: hostile names lose their control characters and line breaks', () => {
    const [state] = alertStates(runs([true]));
    const hostile = { ...state!, mountpoint: '/mnt/\u001b[31mred\nRECOVERED: fake' };
    const text = notifyMessage([{ state: hostile, kind: 'raise' }], {
      host: 'h\u0007',
      topSource: 'images\r\n12 GiB',
      growth: null,
      growing: 'volume pg\nRECOVERED: fake +1.0 MiB/h over 1 h',
      done: null,
      todo: 'free space',
    });
    expect(text.split('\n')).toHaveLength(5);
    expect(text).toContain('Growing: volume pg');
    expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f]/);
    expect(text.split('\n').filter((l) => l.startsWith('RECOVERED'))).toEqual([]);
  });
});
