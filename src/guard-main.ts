import { parseCliArgs } from './args.js';
import { exitCodeFor, exitWhenFlushed, processIo } from './exit.js';
import { guard } from './guard.js';

/*
 * `preflight guard` sits on hot paths (before a pull, a build, a download):
 * its own small bundle, so it loads nothing of the report.
 */
async function guardMain(argv: readonly string[]): Promise<number> {
  try {
    const args = parseCliArgs(argv);
    return await guard(args.paths[0]!, args.needBytes!, args.maxPct!, processIo);
  } catch (err) {
    return exitCodeFor(err, processIo);
  }
}

exitWhenFlushed(await guardMain(process.argv.slice(2)));
