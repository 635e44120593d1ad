import type { ObjectKind } from '../model/history-objects.js';
import type { GrowingObject } from '../model/trend/objects.js';
import { formatBytes } from '../text/bytes.js';
import { inline, plain } from '../text/escape.js';

/** How a kind reads before its name: `volume pgdata`, `log of web`, `images of app`. */
const KIND_WORDS: Record<ObjectKind, string> = {
  volume: 'volume',
  container: 'container',
  log: 'log of',
  image: 'images of',
  'build-cache': 'build cache',
};

/** `volume pgdata +2.1 GiB/h over 24 h`: the name from the system escaped for a markdown line. */
export function growingText(o: GrowingObject): string {
  return described(o, inline(o.name, 80));
}

/** The same for a notification's plain text (no markdown escapes, no control characters). */
export function growingPlainText(o: GrowingObject): string {
  return described(o, plain(o.name, 80));
}

function described(o: GrowingObject, name: string): string {
  const over = o.window === '24h' ? '24 h' : '1 h';
  return `${KIND_WORDS[o.kind]} ${name} +${formatBytes(Math.round(o.bytesPerHour))}/h over ${over}`;
}
