import { main } from './dispatch.js';
import { exitWhenFlushed, processIo } from './exit.js';

void main(process.argv.slice(2), processIo).then(exitWhenFlushed);
