/**
 * A GitHub-flavoured markdown table. Cells must already be escaped
 * (text/escape.ts); this only lays them out, so a cell count that does not
 * match the header is a programming error.
 */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  for (const row of rows) {
    if (row.length !== header.length) throw new Error(`table row has ${row.length} cells, header ${header.length}`);
  }
  return [line(header), line(header.map(() => '---')), ...rows.map(line)];
}
