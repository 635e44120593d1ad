// Captures test/fixtures/deleted-open/: the two children of src/probes/deleted-open.ts, as root, around a file deleted while held. Run: npx tsx test/capture-deleted-open.ts
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { LIST_SCRIPT, STAT_SCRIPT } from '../src/probes/deleted-open.js';
const dir = '/tmp/pf-cap';
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir);
const gone = `${dir}/app\nlog.log`;
const fake = `${dir}/fake (deleted)`;
execFileSync('dd', ['if=/dev/urandom', `of=${gone}`, 'bs=1M', 'count=3', 'status=none']);
writeFileSync(fake, 'x'.repeat(5000));
// sh keeps the fd and a child sleep inherits it: two holders of one file.
const holder = spawn('sh', ['-c', 'exec 3<"$0" 4<"$1"; sleep 60; :', gone, fake], { stdio: 'ignore' });
await new Promise((r) => setTimeout(r, 500));
rmSync(gone);
const list = execFileSync('sh', ['-c', LIST_SCRIPT, 'preflight-fds', '2001']);
const ours = list.toString('latin1').split('\0');
const head = ours[0];
const pairs: string[] = [];
for (let i = 1; i + 1 < ours.length; i += 2) if (ours[i + 1]!.startsWith(dir)) pairs.push(ours[i]!, ours[i + 1]!);
const listing = Buffer.from([head, ...pairs, ''].join('\0'), 'latin1');
writeFileSync(
  'test/fixtures/deleted-open/listing.txt',
  Buffer.concat([
    Buffer.from(
      `# captured: sh -c "$LIST_SCRIPT" preflight-fds 2001 (src/probes/deleted-open.ts; coreutils 9.1, findutils 4.9, Debian 12), as root, with /tmp/pf-cap/app<newline>log.log deleted and /tmp/pf-cap/fake (deleted) not, both held by sh and its child sleep; pairs of other processes left out\n`,
    ),
    listing,
  ]),
);
const args: string[] = [];
const byPid = new Map<string, string[]>();
for (let i = 0; i < pairs.length; i += 2) {
  const m = /^\/proc\/(\d+)\/fd\/(\d+)$/.exec(pairs[i]!)!;
  byPid.set(m[1]!, [...(byPid.get(m[1]!) ?? []), m[2]!]);
}
for (const [p, fds] of byPid) args.push(`p${p}`, ...fds);
const stat = execFileSync('sh', ['-c', STAT_SCRIPT, 'preflight-fd-stat', '\x1eCAPTURE', ...args]);
writeFileSync(
  'test/fixtures/deleted-open/stat.txt',
  Buffer.concat([
    Buffer.from(
      `# captured: sh -c "$STAT_SCRIPT" preflight-fd-stat $'\\x1eCAPTURE' ${args.join(' ')} (src/probes/deleted-open.ts; coreutils 9.1, Debian 12), as root, the same processes as listing.txt\n`,
    ),
    stat,
  ]),
);
holder.kill('SIGKILL');
execFileSync('sh', ['-c', `kill ${[...byPid.keys()].join(' ')} 2>/dev/null; true`]);
console.log(JSON.stringify(listing.toString('latin1')), JSON.stringify(stat.toString()));
