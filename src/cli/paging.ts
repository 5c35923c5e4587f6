/** Cursor pagination of list endpoints (`{items, nextCursor}`): one page, or every page with --all. */

export interface Page<T> {
  readonly items: readonly T[];
  readonly nextCursor: string | null;
}

/** Every page (when `all`) or only the first; `nextCursor` is that of the last page read. */
export async function collectPages<T>(
  all: boolean | undefined,
  fetchPage: (cursor: string | undefined) => Promise<Page<T>>,
): Promise<{ items: T[]; nextCursor: string | null }> {
  const items: T[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await fetchPage(cursor);
    items.push(...page.items);
    if (!all || page.nextCursor === null) return { items, nextCursor: page.nextCursor };
    cursor = page.nextCursor;
  }
}
