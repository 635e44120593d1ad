import { errorMessage } from '../errors.js';
import type { Runner } from '../probes/exec.js';
import { replaceFile } from '../probes/files.js';

/*
 * node_exporter's textfile collector reads every *.prom in its folder at
 * each scrape, so the file is replaced whole (a temporary `.<name>.XXXXXX`,
 * which the collector ignores, then a rename): a scrape never reads half of
 * it. In a child under a deadline, like every write to a configured path (a
 * full or hung disk is the case this tool exists for). The folder is the
 * collector's: it must exist, and it is never created.
 */

/** What became of --prom-file this run; a failure is reported, never fatal. */
export interface TextfileStatus {
  written: boolean;
  file: string;
  reason: string | null;
}

export async function writeTextfile(run: Runner, file: string, text: string, timeoutMs: number): Promise<TextfileStatus> {
  try {
    await replaceFile(run, file, text, timeoutMs, 'no such folder (the textfile collector\'s folder must exist)');
    return { written: true, file, reason: null };
  } catch (err) {
    return { written: false, file, reason: errorMessage(err) };
  }
}
