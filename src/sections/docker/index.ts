import type { Section } from '../types.js';
import { collectDocker } from './collect.js';
import { dockerJson } from './json.js';
import { dockerMarkdown } from './markdown.js';
import type { DockerStorage } from '../../model/docker-storage.js';

export const dockerSection: Section<DockerStorage> = {
  id: 'docker',
  title: 'Docker Storage',
  // /system/df walks every layer and volume: minutes on a big host (moby#31719).
  // The run budget caps this; the section renders what it learned when cut short.
  timeoutMs: 300_000,
  collect: collectDocker,
  markdown: dockerMarkdown,
  json: dockerJson,
};
