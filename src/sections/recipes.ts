/*
 * Our recipes for the host's recipe gate (supervisor/recipes.yaml), as data:
 * integrations/recipes.yaml is generated from them (`npm run recipes`) and
 * `preflight host install` merges them into the host's list.
 */
import type { Action, Severity } from '../model/findings.js';
import { CLEANUP_SCRIPT } from '../model/gate.js';
import { FIELDS, type DiskPressure, type MetadataRisk, type SafeCleanup } from '../model/recipe-fields.js';
import { btrfsSection } from './btrfs/index.js';
import { pressureSection } from './pressure/index.js';
import { remediationSection } from './remediation/index.js';

/** The host's recipe schema (supervisor/recipes.yaml); only field_eq is used: our fields carry the decision. */
export interface Recipe {
  name: string;
  severity: Severity;
  detect: { source: 'preflight'; section: string; rule: 'field_eq'; field: string; value: string };
  action: Action;
  /** Only for `direct`: a script path from $FACTORY_ROOT, never a command line. */
  action_script?: string;
}

const detect = (
  section: string,
  field: string,
  value: DiskPressure | MetadataRisk | SafeCleanup,
): Recipe['detect'] => ({ source: 'preflight', section, rule: 'field_eq', field, value });

/**
 * A healthy or merely-warning host fires nothing that wakes the LLM: what
 * the safe apply can fix runs our script (`direct`), only what it cannot
 * fix asks for judgement. Values absent here (`ok`, `warning`, `clean-up`,
 * `balance`) fire nothing.
 */
export function recipes(actionScript: string = CLEANUP_SCRIPT): Recipe[] {
  const pressure = pressureSection.title;
  const btrfs = btrfsSection.title;
  return [
    {
      name: 'storage-cleanup',
      severity: 'P1',
      detect: detect(remediationSection.title, FIELDS.safeCleanup, 'available'),
      action: 'direct',
      action_script: actionScript,
    },
    { name: 'storage-disk-high', severity: 'P1', detect: detect(pressure, FIELDS.diskPressure, 'high'), action: 'llm' },
    {
      name: 'storage-disk-critical',
      severity: 'P1',
      detect: detect(pressure, FIELDS.diskPressure, 'critical'),
      action: 'incident',
    },
    {
      name: 'storage-btrfs-metadata-risk',
      severity: 'P1',
      detect: detect(btrfs, FIELDS.metadataRisk, 'risk'),
      action: 'llm',
    },
    {
      name: 'storage-btrfs-metadata-critical',
      severity: 'P1',
      detect: detect(btrfs, FIELDS.metadataRisk, 'critical'),
      action: 'llm',
    },
    // A run that could not assess (or no report at all: the snippet's stand-in) must not read as healthy.
    {
      name: 'storage-preflight-incomplete',
      severity: 'P3',
      detect: detect(pressure, FIELDS.diskPressure, 'unknown'),
      action: 'llm',
    },
  ];
}
