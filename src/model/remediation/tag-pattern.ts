import { PatternRefused, parseTagPattern, type CharTest, type PatternNode } from './tag-pattern-parse.js';

/*
 * Keep patterns run in process, as root, on every image tag: JavaScript's
 * backtracking RegExp took 107 s on `^(a+)+$` against 40 `a`s, and a signal
 * cannot cut synchronous work. So a pattern is compiled to an NFA and run
 * Thompson's way: every alternative advances together, one character at a
 * time, so a match costs at most (tag length × program size) steps, whatever
 * the pattern.
 */

/** Longer patterns are refused: a keep pattern names a registry or a repository. */
export const MAX_PATTERN_LENGTH = 256;
/** Instructions once `{n,m}` is spelled out: bounds the cost of one match. */
export const MAX_PROGRAM = 500;
/** Docker's own limits are 255 for the name and 128 for the tag. */
export const MAX_TAG_LENGTH = 512;

type Instruction =
  | { op: 'char'; test: CharTest }
  | { op: 'split'; to: number; or: number }
  | { op: 'jump'; to: number }
  | { op: 'start' }
  | { op: 'end' }
  | { op: 'match' };

export interface TagPattern {
  readonly source: string;
  readonly program: readonly Instruction[];
}

export { PatternRefused };

/** The pattern as a matcher, or PatternRefused with the reason (one line). */
export function compileTagPattern(source: string): TagPattern {
  if (source.length > MAX_PATTERN_LENGTH) throw new PatternRefused(`longer than ${MAX_PATTERN_LENGTH} characters`);
  const program: Instruction[] = [];
  emit(parseTagPattern(source), program);
  program.push({ op: 'match' });
  return Object.freeze({ source, program });
}

function push(program: Instruction[], i: Instruction): number {
  if (program.length >= MAX_PROGRAM)
    throw new PatternRefused(`too large once its repeats are spelled out (over ${MAX_PROGRAM} steps)`);
  return program.push(i) - 1;
}

function emit(node: PatternNode, program: Instruction[]): void {
  switch (node.kind) {
    case 'char':
      push(program, { op: 'char', test: node.test });
      return;
    case 'start':
    case 'end':
      push(program, { op: node.kind });
      return;
    case 'seq':
      for (const item of node.items) emit(item, program);
      return;
    case 'alt': {
      // split → first | split → second | … ; each branch jumps past the rest.
      const jumps: { op: 'jump'; to: number }[] = [];
      node.items.forEach((item, i) => {
        const last = i === node.items.length - 1;
        const split = last ? null : { op: 'split' as const, to: 0, or: 0 };
        if (split) push(program, split);
        if (split) split.to = program.length;
        emit(item, program);
        if (last) return;
        const jump = { op: 'jump' as const, to: 0 };
        push(program, jump);
        jumps.push(jump);
        split!.or = program.length;
      });
      for (const j of jumps) j.to = program.length;
      return;
    }
    case 'repeat': {
      for (let i = 0; i < node.min; i += 1) emit(node.node, program);
      if (node.max === Infinity) {
        const split = { op: 'split' as const, to: 0, or: 0 };
        const loop = push(program, split);
        split.to = program.length;
        emit(node.node, program);
        push(program, { op: 'jump', to: loop });
        split.or = program.length;
        return;
      }
      const splits: { op: 'split'; to: number; or: number }[] = [];
      for (let i = node.min; i < node.max; i += 1) {
        const split = { op: 'split' as const, to: 0, or: 0 };
        push(program, split);
        split.to = program.length;
        splits.push(split);
        emit(node.node, program);
      }
      for (const s of splits) s.or = program.length;
      return;
    }
  }
}

/** As `new RegExp(source).test(text)`: a match anywhere in `text`. */
export function matchesTag(pattern: TagPattern, text: string): boolean {
  const { program } = pattern;
  // seen[pc] === pos: pc is already in the list for position pos (no thread twice, no endless empty loop).
  const seen = new Int32Array(program.length).fill(-1);
  let current: number[] = [];
  for (let pos = 0; ; pos += 1) {
    // A new attempt starts at every position, as an unanchored search does.
    if (follow(program, 0, pos, text.length, seen, current)) return true;
    if (pos === text.length || (current.length === 0 && program[0]?.op === 'start')) return false;
    const c = text.charCodeAt(pos);
    const next: number[] = [];
    for (const pc of current) {
      const i = program[pc]!;
      if (i.op === 'char' && i.test(c) && follow(program, pc + 1, pos + 1, text.length, seen, next)) return true;
    }
    current = next;
  }
}

/** Add `from` and every instruction reachable without reading a character; true when that reaches the match. */
function follow(
  program: readonly Instruction[],
  from: number,
  pos: number,
  length: number,
  seen: Int32Array,
  list: number[],
): boolean {
  const stack = [from];
  while (stack.length) {
    const pc = stack.pop()!;
    if (seen[pc] === pos) continue;
    seen[pc] = pos;
    const i = program[pc]!;
    switch (i.op) {
      case 'match':
        return true;
      case 'char':
        list.push(pc);
        break;
      case 'jump':
        stack.push(i.to);
        break;
      case 'split':
        stack.push(i.or, i.to);
        break;
      case 'start':
        if (pos === 0) stack.push(pc + 1);
        break;
      case 'end':
        if (pos === length) stack.push(pc + 1);
        break;
    }
  }
  return false;
}
