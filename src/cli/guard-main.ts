import { parseCliArgs } from './args.js';
import { exitCodeFor, exitWhenFlushed, processIo } from './exit.js';
import { guard } from '../commands/guard.js';
import { commandHelp } from './help.js';
import { EXIT } from '../commands/io.js';
import { packageVersion } from './version.js';

/*
 * `preflight guard` sits on hot paths (before a pull, a build, a download):
 * its own small bundle, so it loads nothing of the report.
 */
async function guardMain(argv: readonly string[]): Promise<number> {
  try {
    const args = parseCliArgs(argv);
    if (args.command === 'help' || args.command === 'version') {
      processIo.stdout(args.command === 'help' ? commandHelp(args.helpFor ?? 'guard') : `${packageVersion()}\n`);
      return EXIT.ok;
    }
    return await guard(args.paths[0]!, args.needBytes!, args.maxPct!, processIo);
  } catch (err) {
    return exitCodeFor(err, processIo);
  }
}

void guardMain(process.argv.slice(2)).then(exitWhenFlushed);
