import {
  NotApplicableError,
  TimeoutError,
  ToolMissingError,
  UnavailableError,
  errorMessage,
  formatSeconds,
} from '../model/errors.js';
import type { Section, SectionContext } from '../sections/types.js';
import type { Measurements, SectionResult } from '../model/results.js';
import { phaseReserveMs } from '../host/budget.js';
import { remainingMs, withTimeout } from '../host/deadline.js';

/**
 * Run every section concurrently, each under min(its own timeout, what is
 * left of the run budget). A section that throws, times out or lacks its
 * tool becomes a result with a reason; it never stops the others.
 * Sections of a later `phase` (they assess what others measured) run once
 * the earlier phases are done and see their results; a section `after`
 * others of its phase starts when those are done, and sees them too.
 * Results keep registry order. `index` turns the results so far into the
 * run's typed record (ctx.measured) for the later sections.
 */
export async function runSections(
  sections: readonly Section[],
  runDeadline: number,
  context: Omit<SectionContext, 'deadline' | 'earlier' | 'measured'>,
  index: (done: readonly SectionResult[]) => Measurements = () => ({}),
): Promise<SectionResult[]> {
  const done: SectionResult[] = [];
  const phases = [...new Set(sections.map((s) => s.phase ?? 0))].sort((a, b) => a - b);
  // Each later phase keeps a slice of the budget: a /system/df that hangs until
  // the deadline must not leave Storage Pressure without time to give its verdict.
  const reserve = phaseReserveMs(remainingMs(runDeadline));
  for (const [i, phase] of phases.entries()) {
    const before = [...done];
    const phaseDeadline = runDeadline - (phases.length - 1 - i) * reserve;
    const inPhase = sections.filter((s) => (s.phase ?? 0) === phase);
    const running = new Map<string, Promise<SectionResult>>();
    const start = (section: Section, path: readonly string[] = []): Promise<SectionResult> => {
      const known = running.get(section.id);
      if (known) return known;
      // A section already on the path would make a cycle: it is not waited for.
      const waitFor = inPhase.filter(
        (s) => section.after?.includes(s.id) && s.id !== section.id && !path.includes(s.id),
      );
      const result = Promise.all(waitFor.map((s) => start(s, [...path, section.id]))).then((results) => {
        const earlier = [...before, ...results];
        return runOne(section, phaseDeadline, { ...context, earlier, measured: index(earlier) });
      });
      running.set(section.id, result);
      return result;
    };
    done.push(...(await Promise.all(inPhase.map((s) => start(s)))));
  }
  const byId = new Map(done.map((r) => [r.section.id, r]));
  return sections.map((s) => byId.get(s.id)!);
}

async function runOne(
  section: Section,
  runDeadline: number,
  context: Omit<SectionContext, 'deadline'>,
): Promise<SectionResult> {
  const started = Date.now();
  const timeoutMs = Math.min(section.timeoutMs, remainingMs(runDeadline, started));
  const elapsed = () => Date.now() - started;
  if (timeoutMs <= 0) {
    return { section, status: 'skipped', reason: 'run budget spent before it could start', durationMs: 0 };
  }
  try {
    const ctx: SectionContext = { ...context, deadline: started + timeoutMs };
    const out = await withTimeout(section.collect(ctx), timeoutMs, section.title);
    return { section, status: out.status, reason: out.reason, data: out.data, durationMs: elapsed() };
  } catch (err) {
    if (err instanceof TimeoutError) {
      // Our own deadline, or a probe's that the section passed on (which names the call).
      const reason = err.what === section.title ? `timed out after ${formatSeconds(timeoutMs)}` : err.message;
      return { section, status: 'timeout', reason, durationMs: elapsed() };
    }
    if (err instanceof NotApplicableError) {
      return { section, status: 'skipped', reason: err.message, durationMs: elapsed(), notApplicable: true };
    }
    if (err instanceof ToolMissingError || err instanceof UnavailableError) {
      return { section, status: 'skipped', reason: err.message, durationMs: elapsed() };
    }
    return { section, status: 'error', reason: `failed: ${errorMessage(err)}`, durationMs: elapsed() };
  }
}
