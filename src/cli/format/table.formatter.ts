import { oneLine, width } from './terminal-text';

export interface Column {
  header: string;
  align?: 'left' | 'right';
  /** Longer cells are cut with an ellipsis. */
  max?: number;
}

/** Aligned columns separated by two spaces; every cell on one line, control characters escaped. */
export function renderTable(columns: Column[], rows: (string | number | undefined)[][]): string {
  const cells = rows.map((row) =>
    columns.map((column, i) => oneLine(String(row[i] ?? ''), column.max)),
  );
  const widths = columns.map((column, i) =>
    Math.max(width(column.header), ...cells.map((row) => width(row[i]))),
  );
  const line = (values: string[]): string =>
    values
      .map((value, i) => {
        const pad = ' '.repeat(widths[i] - width(value));
        return columns[i].align === 'right' ? pad + value : value + pad;
      })
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...cells.map(line)].join('\n');
}

/** `Label:  value` lines with the values aligned; empty values are left out. */
export function renderFields(
  fields: [label: string, value: string | number | undefined][],
): string {
  const shown = fields.filter(([, value]) => value !== undefined && value !== '');
  const labelWidth = Math.max(0, ...shown.map(([label]) => width(label) + 1));
  return shown
    .map(([label, value]) => `${`${label}:`.padEnd(labelWidth)}  ${oneLine(String(value))}`)
    .join('\n');
}
