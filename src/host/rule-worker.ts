import type { ScannedFile } from '../model/remediation/rules.js';
import type { Runner } from './exec.js';

/*
 * The files of the operator's clean-up rules are walked and acted on in a
 * child of their own (a rule's root may hold a mount that hangs: the child
 * is killed at the deadline, the run goes on). The child is `node -e` with
 * the text of `ruleWorker` below, so it imports nothing: every helper it
 * uses is inside it. Each folder is entered one name at a time from the
 * root (lstat, chdir, then stat of `.` must be what lstat saw): no symlink
 * is ever followed, no other filesystem entered, and each file is then
 * touched by its name in that folder, never by a path.
 */

export interface WorkerStatfs {
  bsize: number;
  blocks: number;
  bfree: number;
  bavail: number;
}

export interface ScanJob {
  mode: 'scan';
  root: string;
  /** RegExp sources (rule-glob.ts), matched against the path relative to the root. */
  match: string;
  protect: string[];
  /** Mount points below the root (from the mount table): never looked at, so one that hangs cannot hold the walk. */
  mounts: string[];
  /** Rotate by lines: the kept tail is measured for files larger than this. */
  tail: { lines: number; largerThan: number } | null;
  maxEntries: number;
  /** Epoch ms: the walk stops here and says so. */
  softDeadline: number;
}

export type ScanOut =
  | { refused: string }
  | { rootDev: number; rootIno: number; statfs: WorkerStatfs | null; files: ScannedFile[]; cut: string | null };

export interface ActJob {
  mode: 'act';
  root: string;
  rootDev: number;
  rootIno: number;
  action: 'delete' | 'rotate' | 'truncate';
  olderThanMs: number | null;
  largerThanBytes: number | null;
  keep: { lines: number } | { bytes: number } | null;
  files: { rel: string; dev: number; ino: number }[];
  softDeadline: number;
}

export interface ActResult {
  result: 'removed' | 'gone' | 'kept' | 'failed';
  detail: string | null;
  changed?: true;
  /** Allocated bytes before less after, from fstat. */
  freed: number;
}

export type ActOut =
  { refused: string } | { before: WorkerStatfs | null; after: WorkerStatfs | null; results: ActResult[] };

/** The child's program. Self-contained on purpose: it runs from its own text (see above). */
export function ruleWorker(require: (id: string) => unknown): void {
  const fs = require('node:fs') as typeof import('node:fs');
  const job = JSON.parse(fs.readFileSync(0, 'utf8')) as ScanJob | ActJob;
  const C = fs.constants;
  const READ = C.O_RDONLY | C.O_NOFOLLOW | C.O_NONBLOCK;
  const out = (v: unknown): void => {
    process.stdout.write(JSON.stringify(v));
  };
  const statfs = (): WorkerStatfs | null => {
    try {
      const s = fs.statfsSync('.');
      return { bsize: s.bsize, blocks: s.blocks, bfree: s.bfree, bavail: s.bavail };
    } catch {
      return null;
    }
  };
  const root = fs.lstatSync(job.root, { throwIfNoEntry: false });
  if (!root || !root.isDirectory()) return out({ refused: 'the root is not a folder (or a symbolic link)' });
  if (fs.realpathSync(job.root) !== job.root)
    return out({ refused: 'the root is not its own real path (a symbolic link on the way)' });
  if (job.mode === 'act' && (root.dev !== job.rootDev || root.ino !== job.rootIno))
    return out({ refused: 'the root is another folder than the one planned' });
  /** Enter `rel` (a folder below the root, '' for the root) one name at a time; the reason when the way changed. */
  const enter = (rel: string): string | null => {
    process.chdir(job.root);
    const here = fs.statSync('.');
    if (here.dev !== root.dev || here.ino !== root.ino) return 'the root changed';
    for (const name of rel.split('/').filter(Boolean)) {
      const l = fs.lstatSync(name, { throwIfNoEntry: false });
      if (!l) return 'gone';
      if (l.isSymbolicLink()) return `${name} on the way is now a symbolic link: not followed`;
      if (!l.isDirectory()) return `${name} on the way is no longer a folder`;
      if (l.dev !== root.dev) return `${name} on the way is on another filesystem`;
      process.chdir(name);
      const s = fs.statSync('.');
      if (s.dev !== l.dev || s.ino !== l.ino) return `${name} on the way changed while entered`;
    }
    return null;
  };
  /** Where the last `lines` lines start (a final newline ends the last line), or null past 64 MiB of reading. */
  const tailStart = (fd: number, size: number, lines: number): number | null => {
    const chunk = Buffer.alloc(64 * 1024);
    let seen = 0;
    let pos = size;
    let first = true;
    while (pos > 0) {
      if (size - pos > 64 * 1024 * 1024) return null;
      const n = Math.min(chunk.length, pos);
      pos -= n;
      fs.readSync(fd, chunk, 0, n, pos);
      for (let i = n - 1; i >= 0; i -= 1) {
        if (chunk[i] !== 10) {
          first = false;
          continue;
        }
        if (first && pos + i === size - 1) continue;
        first = false;
        if (++seen === lines) return pos + i + 1;
      }
    }
    return 0;
  };
  if (job.mode === 'scan') {
    const match = new RegExp(job.match, 'u');
    const protect = job.protect.map((p) => new RegExp(p, 'u'));
    const mounts = new Set(job.mounts);
    const files: ScannedFile[] = [];
    const dirs = [''];
    let entries = 0;
    let cut: string | null = null;
    walk: while (dirs.length) {
      const dir = dirs.pop()!;
      let names: string[];
      try {
        if (enter(dir) !== null) continue;
        names = fs.readdirSync('.');
      } catch {
        continue;
      }
      for (const name of names.sort()) {
        if (++entries > job.maxEntries) {
          cut = `more than ${job.maxEntries} names`;
          break walk;
        }
        if (Date.now() > job.softDeadline) {
          cut = 'out of time';
          break walk;
        }
        const rel = dir ? `${dir}/${name}` : name;
        if (mounts.has(`${job.root}/${rel}`)) continue;
        let l: import('node:fs').Stats | undefined;
        try {
          l = fs.lstatSync(name, { throwIfNoEntry: false });
        } catch {
          continue;
        }
        if (!l || l.dev !== root.dev) continue;
        if (l.isDirectory()) dirs.push(rel);
        if (!l.isFile() || !match.test(rel) || protect.some((p) => p.test(rel))) continue;
        const f: ScannedFile = {
          rel,
          dev: l.dev,
          ino: l.ino,
          size: l.size,
          allocated: l.blocks * 512,
          mtimeMs: l.mtimeMs,
        };
        if (job.tail && l.size > job.tail.largerThan) {
          try {
            const fd = fs.openSync(name, READ);
            try {
              const st = fs.fstatSync(fd);
              const start = st.ino === l.ino ? tailStart(fd, st.size, job.tail.lines) : null;
              f.keptBytes = start === null ? l.size : st.size - start;
            } finally {
              fs.closeSync(fd);
            }
          } catch {
            continue;
          }
        }
        files.push(f);
      }
    }
    enter('');
    return out({ rootDev: root.dev, rootIno: root.ino, statfs: statfs(), files, cut });
  }
  // Who holds each file open (truncate, rotate): said with the result. /proc's links are read, never followed.
  const openers = new Map<string, string[]>();
  if (job.action !== 'delete') {
    const wanted = new Set(job.files.map((f) => `${job.root}/${f.rel}`));
    let pids: string[] = [];
    try {
      pids = fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p) && Number(p) !== process.pid);
    } catch {
      /* no /proc: openers unknown */
    }
    for (const pid of pids) {
      if (Date.now() > job.softDeadline) break;
      try {
        for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
          const target = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
          if (!wanted.has(target)) continue;
          const comm = fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
          const who = `pid ${pid} (${comm})`;
          const list = openers.get(target) ?? [];
          if (!list.includes(who)) openers.set(target, [...list, who]);
        }
      } catch {
        /* gone, or not ours to read */
      }
    }
  }
  const kept = (detail: string): ActResult => ({ result: 'kept', detail, changed: true, freed: 0 });
  const sameFile = (a: { dev: number; ino: number }, b: { dev: number; ino: number }) =>
    a.dev === b.dev && a.ino === b.ino;
  const actOn = (f: ActJob['files'][number]): ActResult => {
    if (Date.now() > job.softDeadline) return { result: 'failed', detail: 'not tried: the budget was spent', freed: 0 };
    const slash = f.rel.lastIndexOf('/');
    const way = enter(slash < 0 ? '' : f.rel.slice(0, slash));
    if (way === 'gone') return { result: 'gone', detail: 'a folder on the way is gone', freed: 0 };
    if (way !== null) return kept(way);
    const name = f.rel.slice(slash + 1);
    const l = fs.lstatSync(name, { throwIfNoEntry: false });
    if (!l) return { result: 'gone', detail: 'already gone', freed: 0 };
    if (l.isSymbolicLink()) return kept('now a symbolic link: not followed');
    if (!l.isFile()) return kept('no longer a regular file');
    if (!sameFile(l, f)) return kept('another file at this name since the plan');
    if (job.olderThanMs !== null && Date.now() - l.mtimeMs < job.olderThanMs)
      return kept('written to since the plan: no longer old enough');
    if (job.largerThanBytes !== null && l.size <= job.largerThanBytes) return kept('no longer larger than the bound');
    const held = openers.get(`${job.root}/${f.rel}`);
    const fd = fs.openSync(name, job.action === 'truncate' ? C.O_WRONLY | C.O_NOFOLLOW | C.O_NONBLOCK : READ);
    try {
      const st = fs.fstatSync(fd);
      if (!sameFile(st, l) || !st.isFile()) return kept('changed while opened');
      if (job.action === 'delete') {
        fs.unlinkSync(name);
        return { result: 'removed', detail: null, freed: st.blocks * 512 };
      }
      if (job.action === 'truncate') {
        fs.ftruncateSync(fd, 0);
        const after = fs.fstatSync(fd);
        const detail = held
          ? `truncated while open by ${held.join(', ')}: a writer without O_APPEND writes on at its offset (a sparse file)`
          : null;
        return { result: 'removed', detail, freed: (st.blocks - after.blocks) * 512 };
      }
      const keep = job.keep!;
      const start = 'lines' in keep ? tailStart(fd, st.size, keep.lines) : Math.max(0, st.size - keep.bytes);
      if (start === null) return kept('its last lines are more than 64 MiB: left whole');
      if (start === 0) return kept('the part to keep is the whole file');
      const tmp = `.${name.slice(0, 200)}.preflight-${process.pid}-${Date.now().toString(36)}`;
      const tfd = fs.openSync(tmp, C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW, 0o600);
      let renamed = false;
      try {
        const buf = Buffer.alloc(1024 * 1024);
        // To the end as it is now: lines written since the fstat are kept too.
        for (let pos = start; ;) {
          const n = fs.readSync(fd, buf, 0, buf.length, pos);
          if (n === 0) break;
          fs.writeSync(tfd, buf, 0, n);
          pos += n;
        }
        fs.fchownSync(tfd, st.uid, st.gid);
        fs.fchmodSync(tfd, st.mode & 0o7777);
        fs.fsyncSync(tfd);
        const newBlocks = fs.fstatSync(tfd).blocks;
        const again = fs.lstatSync(name, { throwIfNoEntry: false });
        if (!again || !sameFile(again, st)) return kept('changed while its tail was copied');
        fs.renameSync(tmp, name);
        renamed = true;
        const detail = held
          ? `rotated while open by ${held.join(', ')}: it writes to the old copy, whose blocks stay taken until it reopens the file`
          : null;
        return { result: 'removed', detail, freed: (st.blocks - newBlocks) * 512 };
      } finally {
        fs.closeSync(tfd);
        if (!renamed) fs.rmSync(tmp, { force: true });
      }
    } finally {
      fs.closeSync(fd);
    }
  };
  enter('');
  const before = statfs();
  const results = job.files.map((f): ActResult => {
    try {
      return actOn(f);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code === 'ENOENT') return { result: 'gone', detail: 'already gone', freed: 0 };
      if (e.code === 'ELOOP') return kept('now a symbolic link: not followed');
      return { result: 'failed', detail: e.message, freed: 0 };
    }
  });
  enter('');
  return out({ before, after: statfs(), results });
}

/** esbuild's keepNames (tsx, some test runners) wraps named functions in `__name(fn, "name")`: a no-op here. */
const KEEP_NAMES_HELPER = 'var __name = (f) => f;\n';

/** Run one job in the child, by `timeoutMs`; its answer, or the problem that kept it from one. */
export async function runRuleWorker<T extends ScanJob | ActJob>(
  run: Runner,
  job: T,
  timeoutMs: number,
): Promise<(T extends ScanJob ? ScanOut : ActOut) | { problem: string }> {
  try {
    const res = await run(
      process.execPath,
      ['-e', `${KEEP_NAMES_HELPER}(${ruleWorker.toString()})(require)`],
      timeoutMs,
      JSON.stringify(job),
    );
    if (res.exitCode !== 0 || !res.stdout)
      return { problem: res.stderr.split('\n').find(Boolean) ?? `exit ${res.exitCode}` };
    return JSON.parse(res.stdout) as T extends ScanJob ? ScanOut : ActOut;
  } catch (err) {
    return { problem: (err as Error).message };
  }
}
