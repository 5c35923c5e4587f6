/**
 * Rendering of command results: `-o table` (kubectl-like aligned columns, colour only on a TTY),
 * `-o json` (the API's wire objects, pretty-printed) and `-o yaml`. Pure: returns strings ending in
 * a newline; commands decide where they go.
 */
import Table from 'cli-table3';
import { stringify as toYaml } from 'yaml';
import type { OutputFormat } from './args.js';

export interface Column<T> {
  readonly header: string;
  readonly value: (row: T) => string;
}

export interface RenderOptions {
  readonly format: OutputFormat;
  /** Colours are used only when the output is a terminal. */
  readonly tty: boolean;
}

const NO_BORDERS = {
  top: '',
  'top-mid': '',
  'top-left': '',
  'top-right': '',
  bottom: '',
  'bottom-mid': '',
  'bottom-left': '',
  'bottom-right': '',
  left: '',
  'left-mid': '',
  mid: '',
  'mid-mid': '',
  right: '',
  'right-mid': '',
  middle: '',
};

/** Aligned columns with a header row and three spaces between columns; no trailing spaces. */
export function renderTable<T>(rows: readonly T[], columns: readonly Column<T>[], tty: boolean): string {
  const table = new Table({
    head: columns.map((c) => c.header),
    chars: NO_BORDERS,
    style: { 'padding-left': 0, 'padding-right': 3, head: tty ? ['bold'] : [], border: [] },
  });
  for (const row of rows) table.push(columns.map((c) => oneLine(c.value(row))));
  const text = table
    .toString()
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n');
  return `${text}\n`;
}

/**
 * Rows printed one at a time (`--watch`, `events --follow`): the header with the first row, each
 * column padded to `max(header, minimum width)` so rows line up unless a value is longer.
 */
export function rowStream<T>(
  columns: readonly Column<T>[],
  minWidths: readonly number[],
): (row: T) => string {
  const widths = columns.map((c, i) => Math.max(c.header.length, minWidths[i] ?? 0));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : `${cell.padEnd(widths[i] ?? 0)}   `))
      .join('')
      .trimEnd();
  let first = true;
  return (row) => {
    const text = line(columns.map((c) => oneLine(c.value(row))));
    const header = first ? `${line(columns.map((c) => c.header))}\n` : '';
    first = false;
    return `${header}${text}\n`;
  };
}

/** A cell is one line: newlines and tabs become spaces. */
function oneLine(text: string): string {
  return text.replace(/[\r\n\t]+/g, ' ');
}

export function renderJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

export function renderYaml(value: unknown): string {
  const text = toYaml(value, { lineWidth: 0 });
  return text.endsWith('\n') ? text : `${text}\n`;
}

/** `value` as JSON or YAML, or `table()` when the format is table. */
export function render(value: unknown, options: RenderOptions, table: () => string): string {
  if (options.format === 'json') return renderJson(value);
  if (options.format === 'yaml') return renderYaml(value);
  return table();
}

/** A list: JSON/YAML show `{items}`, a table shows one row per item (or a note when empty). */
export function renderList<T>(
  items: readonly T[],
  columns: readonly Column<T>[],
  options: RenderOptions,
  emptyNote = 'No resources found.',
): string {
  return render({ items }, options, () =>
    items.length === 0 ? `${emptyNote}\n` : renderTable(items, columns, options.tty),
  );
}

/** Human age since `iso`: `45s`, `12m`, `5h`, `3d` (kubectl style). `-` for a missing time. */
export function age(iso: string | null | undefined, now: number = Date.now()): string {
  if (!iso) return '-';
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return '-';
  const seconds = Math.max(0, Math.floor((now - then) / 1000));
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 120) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours}h`;
  return `${Math.floor(hours / 24)}d`;
}

/** `-` for empty values so a table column never looks shifted. */
export function dash(value: string | number | null | undefined): string {
  return value === null || value === undefined || value === '' ? '-' : String(value);
}
