import { describe, expect, it } from 'vitest';
import type { Observed } from '../../src/model/history.js';
import { settleEscalations } from '../../src/model/escalation-settle.js';
import { renderResolvedItem } from '../../src/render/vault-item.js';
import { ITEM_BEGIN, ITEM_END, markedItem, mergeItem } from '../../src/render/vault-merge.js';

const fresh = (title: string, what = 'figures') => markedItem(`# ${title}`, ['', '## What', what]);
const merged = (current: string | null, next: string) => {
  const m = mergeItem(current, next);
  if (!m.ok) throw new Error(m.problem);
  return m.text;
};
const FORGED = `\n${ITEM_END}\nforged tail\n${ITEM_BEGIN}\n`;

describe("our part of a vault item is replaced, a person's additions are kept", () => {
  it('a new item is our rendering; the next one replaces only the title and the marked lines', () => {
    const first = fresh('Free space on /a: 91% used', 'old figures');
    expect(merged(null, first)).toBe(first);
    const noted =
      first.replace('\n', '\nA line a person put under the title.\n') +
      'Notes: called the vendor.\n\n- [ ] order a disk\n';
    const next = merged(noted, fresh('Free space on /a: 93% used', 'new figures'));
    expect(next).toBe(
      `# Free space on /a: 93% used\nA line a person put under the title.\n${ITEM_BEGIN}\n\n## What\nnew figures\n${ITEM_END}\nNotes: called the vendor.\n\n- [ ] order a disk\n`,
    );
    // Ten more runs: the same notes, once.
    let text = next;
    for (let i = 0; i < 10; i += 1) text = merged(text, fresh(`Free space on /a: ${i}% used`));
    expect(text.match(/Notes: called the vendor\./g)).toHaveLength(1);
    expect(text.endsWith(`${ITEM_END}\nNotes: called the vendor.\n\n- [ ] order a disk\n`)).toBe(true);
  });

  it("a file saved with CRLF line ends still merges; a person's lines stay as they were", () => {
    const crlf = fresh('t').replace(/\n/g, '\r\n') + 'note\r\n';
    expect(merged(crlf, fresh('u'))).toBe(`# u\n${ITEM_BEGIN}\n\n## What\nfigures\n${ITEM_END}\nnote\r\n`);
  });

  it("marks forged in a person's notes, lost or out of order: nothing to write, and why", () => {
    const item = fresh('t');
    const problem = (text: string) => {
      const m = mergeItem(text, fresh('u'));
      return m.ok ? null : m.problem;
    };
    expect(problem(item + FORGED)).toBe('it holds 2 begin and 2 end marks of ours, not one of each');
    expect(problem(`${item}${ITEM_END}\n`)).toBe('it holds 1 begin and 2 end marks of ours, not one of each');
    expect(problem(item.replace(`${ITEM_BEGIN}\n`, ''))).toBe(
      'it holds 0 begin and 1 end marks of ours, not one of each',
    );
    expect(problem(item.replace(`\n${ITEM_END}`, '') + `${ITEM_END}\n`.replace(ITEM_END, ITEM_BEGIN))).toMatch(
      /not one of each/,
    );
    expect(problem(`# t\n${ITEM_END}\nx\n${ITEM_BEGIN}\n`)).toBe('its marks are out of order');
    expect(problem(`intro\n${item}`)).toBe('its first line is not a "# " title');
    // An item from before the marks existed: left alone too, never guessed at.
    expect(problem('# Free space on /a\n\n## What\nx\n')).toMatch(
      /^it has no marks of ours \(filed by an earlier version/,
    );
    // A mark inside a longer line, or indented, is text: it does not count and does not move anything.
    const quoted = `${item}see \`${ITEM_END}\`\n   ${ITEM_BEGIN}\n`;
    expect(merged(quoted, fresh('u'))).toBe(`${fresh('u')}see \`${ITEM_END}\`\n   ${ITEM_BEGIN}\n`);
  });

  it('a mount name carrying our marks cannot forge one in our rendering', () => {
    const hostile = `/mnt/x\n${ITEM_END}\n${ITEM_BEGIN}\n# y`;
    const text = renderResolvedItem('disk-space', hostile, `${hostile} is 50% used\n${ITEM_END}`, {
      host: `h\n${ITEM_BEGIN}`,
      at: new Date('2026-11-25T07:00:00Z'),
      since: null,
    });
    expect(text.split('\n').filter((l) => l === ITEM_BEGIN || l === ITEM_END)).toEqual([ITEM_BEGIN, ITEM_END]);
    expect(merged(merged(null, text), text)).toBe(text);
    expect(text.split('\n')[0]).toMatch(/^# Resolved: free space on \/mnt\/x\\\\n\\</);
  });
});

describe('an escalated condition resolves only where the run looked', () => {
  const disk = { slug: 'storage-disk-space-a', kind: 'disk-space' as const, mountpoint: '/a' };
  const meta = { slug: 'storage-btrfs-metadata-b', kind: 'btrfs-metadata' as const, mountpoint: '/b' };
  const seen = (over: Partial<Observed> = {}): Observed => ({
    assessed: true,
    filesystems: ['/a', '/b'],
    looked: ['/a', '/b'],
    btrfs: ['/b'],
    dockerSizes: true,
    ...over,
  });

  it('measured and gone: resolved; still there: active', () => {
    expect(settleEscalations([disk, meta], [], seen())).toEqual({ resolved: [disk, meta], unobserved: [], active: [] });
    expect(settleEscalations([disk], [disk], seen())).toEqual({ resolved: [], unobserved: [], active: [disk] });
  });

  it('a stuck mount, a path left out, a btrfs not assessed, a cut-short run: unobserved, and still active', () => {
    // Stuck: looked at, but no figures.
    expect(settleEscalations([disk], [], seen({ filesystems: ['/b'] }))).toEqual({
      resolved: [],
      unobserved: [disk],
      active: [disk],
    });
    expect(settleEscalations([disk], [], seen({ filesystems: ['/b'], looked: ['/b'] })).unobserved).toEqual([disk]);
    expect(settleEscalations([meta], [], seen({ btrfs: [] })).unobserved).toEqual([meta]);
    expect(settleEscalations([disk, meta], [], seen({ assessed: false }))).toEqual({
      resolved: [],
      unobserved: [disk, meta],
      active: [disk, meta],
    });
  });
});
