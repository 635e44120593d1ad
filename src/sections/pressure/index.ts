import type { Section } from '../types.js';
import { collectPressure } from './collect.js';
import { pressureMarkdown } from './markdown.js';
import type { PressureData } from '../../model/pressure.js';

export const pressureSection: Section<PressureData> = {
  id: 'pressure',
  title: 'Storage Pressure',
  timeoutMs: 30_000,
  // After every measuring section, Btrfs included.
  phase: 2,
  collect: collectPressure,
  markdown: pressureMarkdown,
  json: (d) => ({
    attribution: d?.attribution ?? null,
    containerdAttribution: d?.containerdAttribution ?? null,
    outsideDocker: d?.outsideDocker ?? null,
    largestFiles: d?.largestFiles ?? null,
    deletedOpen: d?.deletedOpen ?? null,
    pressure: d?.pressure ?? [],
    findings: d?.findings ?? [],
    growingObjects: d?.growingObjects ?? [],
  }),
};
