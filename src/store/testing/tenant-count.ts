/** Test helper: how many tenants are not archived, read through the store's keyset pages. */
import type { Store } from '../store.js';

const PAGE = 500;

export async function liveTenantCount(store: Pick<Store, 'tenants'>): Promise<number> {
  let count = 0;
  for (let after: string | null = null; ;) {
    const page = await store.tenants.listSummaries(after, PAGE);
    count += page.length;
    if (page.length < PAGE) return count;
    after = page.at(-1)!.id;
  }
}
