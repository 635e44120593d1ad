import type { Section } from '../types.js';
import { collectRemediation } from './collect.js';
import { type RemediationData } from '../../model/remediation/plan.js';
import { remediationMarkdown } from './markdown.js';

export const remediationSection: Section<RemediationData> = {
  id: 'remediation',
  title: 'Remediation Plan',
  timeoutMs: 10_000,
  // After Storage Pressure: the plan is for the filesystem its findings are about.
  phase: 3,
  collect: (ctx) => collectRemediation(ctx, ctx.options.remediation.policy, ctx.options.remediation.always),
  markdown: remediationMarkdown,
  json: (d) => ({ remediation: d ?? null }),
};
