/** `1 file`, `3 files`, `2 processes`: a count with its noun. */
export const count = (n: number, noun: string): string =>
  `${n} ${noun}${n === 1 ? '' : noun.endsWith('s') ? 'es' : 's'}`;
