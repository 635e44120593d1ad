/*
 * The entry the `preflight` script runs: `node start.cjs BUNDLE args…`.
 * It compiles the bundle with V8's code cache kept beside it (BUNDLE.v8cache),
 * so a run skips most of the bundle's compilation: a report ends ~5% sooner
 * on the big host (bench/README.md; guard's small bundle gains nothing, and
 * runs without it). No cache, a stale or a rejected one: the bundle
 * is compiled as Node would, and the cache is written once the run ends.
 *
 * Trust: the cache is read and written only in a folder that this user owns
 * and no one else may write to, the bundle's own: whoever could forge the
 * cache could as well rewrite the bundle. V8 checks the cache against its
 * own version and flags, but of the source only its length, so the cache
 * names the bundle it was made from (size, mtime, inode) on its first line.
 * Every failure to read or write it is silent: a full or read-only disk
 * costs the cache, never the run.
 */
import { closeSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import Module from 'node:module';
import path from 'node:path';
import vm from 'node:vm';

const bundle = path.resolve(process.argv[2] ?? '');
// The bundle sees the argv it would have had as node's entry.
process.argv.splice(1, 1);
runBundle(bundle);

function runBundle(file: string): void {
  const source = readFileSync(file, 'utf8');
  const stamp = stampOf(file);
  const cacheFile = `${file}.v8cache`;
  const cachedData = stamp ? readCache(cacheFile, stamp) : undefined;
  const script = new vm.Script(Module.wrap(source), { filename: file, cachedData });
  if (stamp && (!cachedData || script.cachedDataRejected))
    // At exit: the functions this run compiled are in the cache too.
    process.once('exit', () => writeCache(cacheFile, stamp, script));
  const compiled = script.runInThisContext() as (...args: unknown[]) => void;
  const mod = new Module(file);
  mod.filename = file;
  const require = Module.createRequire(file);
  compiled.call(mod.exports, mod.exports, require, mod, file, path.dirname(file));
}

/** The bundle's identity, when its folder is ours alone: `size mtime inode node-version`. */
function stampOf(file: string): string | null {
  try {
    const dir = statSync(path.dirname(file));
    const uid = process.geteuid?.() ?? -1;
    if (dir.uid !== uid || (dir.mode & 0o022) !== 0) return null;
    const st = statSync(file);
    return `${st.size} ${st.mtimeMs} ${st.ino} ${process.version}`;
  } catch {
    return null;
  }
}

/** The cache's bytes when its first line names this very bundle; else nothing. */
function readCache(cacheFile: string, stamp: string): Buffer | undefined {
  try {
    const data = readFileSync(cacheFile);
    const header = Buffer.from(`${stamp}\n`);
    return data.subarray(0, header.length).equals(header) ? data.subarray(header.length) : undefined;
  } catch {
    return undefined;
  }
}

/** Write the cache beside the bundle through a new file renamed over it: a concurrent run reads the old or the new. */
function writeCache(cacheFile: string, stamp: string, script: vm.Script): void {
  const temp = `${cacheFile}.${process.pid}.tmp`;
  try {
    const fd = openSync(temp, 'wx', 0o644);
    try {
      writeAll(fd, Buffer.from(`${stamp}\n`));
      writeAll(fd, script.createCachedData());
    } finally {
      closeSync(fd);
    }
    renameSync(temp, cacheFile);
  } catch {
    try {
      unlinkSync(temp);
    } catch {
      /* never made */
    }
  }
}

function writeAll(fd: number, data: Buffer): void {
  for (let at = 0; at < data.length;) at += writeSync(fd, data, at);
}
