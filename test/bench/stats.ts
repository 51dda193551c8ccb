/** Bench support: the statistics the benches sum their rounds up with, and the tables they print. */

export const median = (v: readonly number[]): number => {
  const s = [...v].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length === 0 ? Number.NaN : s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** Mean and standard error of the mean (NaN with fewer than two values). */
export function meanSe(v: readonly number[]): { mean: number; se: number } {
  const mean = v.reduce((a, b) => a + b, 0) / Math.max(1, v.length);
  const sd = v.length > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1)) : Number.NaN;
  return { mean, se: sd / Math.sqrt(v.length) };
}

/**
 * A Markdown table under `title` (after a blank line), as lines: the first column left-aligned,
 * the others right-aligned, each as wide as its widest cell.
 */
export function tableLines(title: string, header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  return [`\n${title}`, line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)];
}
