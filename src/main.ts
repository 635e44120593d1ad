import { main } from './cli.js';
import { exitWhenFlushed, processIo } from './exit.js';

exitWhenFlushed(await main(process.argv.slice(2), processIo));
