import { main } from './dispatch.js';
import { exitWhenFlushed, processIo } from './exit.js';

exitWhenFlushed(await main(process.argv.slice(2), processIo));
