// rabbitmqctl's output shapes: tab-separated rows under a header row, or a JSON array with one object a line.

export type Row = Record<string, unknown>;

/** A value as rabbitmqctl's table formatter prints it: lists as `[a, b]`, empty argument tables as `[]`. */
export function tableValue(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (Array.isArray(value)) return `[${value.map(tableValue).join(', ')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as object);
    return entries.length === 0 ? '[]' : `[${entries.map(([k, v]) => `{"${k}",${typeof v === 'string' ? `"${v}"` : tableValue(v)}}`).join(', ')}]`;
  }
  return String(value);
}

export function table(columns: readonly string[], rows: readonly Row[], headers: boolean): string {
  const lines = rows.map((row) => columns.map((c) => tableValue(row[c])).join('\t'));
  if (headers && rows.length > 0) lines.unshift(columns.join('\t'));
  return lines.map((l) => `${l}\n`).join('');
}

/** rabbitmqctl's `--formatter json` for lists: `[`, one object a line, `]`. */
export function jsonList(columns: readonly string[], rows: readonly Row[]): string {
  const objects = rows.map((row) => JSON.stringify(Object.fromEntries(columns.map((c) => [c, row[c] ?? null]))));
  return `[\n${objects.join(',\n')}${objects.length > 0 ? '\n' : ''}]\n`;
}
