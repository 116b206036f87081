/** Renders rows as a plain aligned text table. */
export function table(
  headers: string[],
  rows: (string | number | boolean | null | undefined)[][],
): string {
  const cells = rows.map((row) =>
    row.map((c) => (c === null || c === undefined ? '-' : String(c))),
  );
  const widths = headers.map((h, i) =>
    Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)),
  );
  const line = (row: string[]) =>
    row
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}
