import { main } from './cli.js';

// Entry point: run, flush stdout, then exit even if an abandoned probe
// (a killed child stuck in statfs, a silent socket) still holds a handle.
const code = await main(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
});
process.stdout.write('', () => process.exit(code));
