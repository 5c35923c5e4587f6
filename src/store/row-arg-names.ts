/**
 * The argument names of a multi-row statement: one name per column for each row index, made once
 * per index and kept, rather than built again for every statement on the write path.
 */
export type RowArgNames<C extends string> = Readonly<Record<C, string>>;

/** `names(row)`: `name(column, row)` for each of `columns`. */
export function rowArgNames<C extends string>(
  columns: readonly C[],
  name: (column: C, row: number) => string,
): (row: number) => RowArgNames<C> {
  const table: RowArgNames<C>[] = [];
  return (row) => {
    while (table.length <= row) {
      const i = table.length;
      table.push(Object.fromEntries(columns.map((c) => [c, name(c, i)])) as RowArgNames<C>);
    }
    return table[row]!;
  };
}
