import path from 'node:path';
import { errorMessage } from '../errors.js';
import { FileProblem, inChild, problemFrom, REFUSE_NOT_REGULAR, REPLACE_FROM_STDIN } from '../probes/files.js';
import type { Runner } from '../probes/exec.js';

/*
 * node_exporter's textfile collector reads every *.prom in its folder at
 * each scrape, so the file is replaced whole (a temporary `.<name>.XXXXXX`,
 * which the collector ignores, then a rename): a scrape never reads half of
 * it. In a child under a deadline, like every write to a configured path (a
 * full or hung disk is the case this tool exists for). The folder is the
 * collector's: it must exist, and it is never created.
 */
const WRITE_SCRIPT = `dir=$1 name=$2
[ -d "$dir" ] || exit 13
f=$dir/$name
${REFUSE_NOT_REGULAR}
${REPLACE_FROM_STDIN}`;

/** What became of --prom-file this run; a failure is reported, never fatal. */
export interface TextfileStatus {
  written: boolean;
  file: string;
  reason: string | null;
}

export async function writeTextfile(run: Runner, file: string, text: string, timeoutMs: number): Promise<TextfileStatus> {
  const dir = path.dirname(file);
  try {
    const res = await inChild(run, WRITE_SCRIPT, [dir, path.basename(file)], timeoutMs, file, text);
    if (res.exitCode === 13) throw new FileProblem('ENOENT', dir, 'no such folder (the textfile collector\'s folder must exist)');
    if (res.exitCode !== 0) throw problemFrom(file, res.stderr, res.exitCode);
    return { written: true, file, reason: null };
  } catch (err) {
    return { written: false, file, reason: errorMessage(err) };
  }
}
