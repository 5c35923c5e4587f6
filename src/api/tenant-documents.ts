/**
 * `GET /v1/tenants/{idOrName}` without rebuilding a document that has not changed. A tenant's
 * answer is a pure function of its row at one version (the spec with secret values masked, the
 * status, the version itself; docs/decisions.md, "The tenant document cache"), so the rendered
 * JSON is kept per lookup key with the id and version it was rendered from. Every GET still asks
 * the database: the store compares the held id and version with the row in the same statement
 * that finds it (`getForView`) and sends the row's documents only when they differ — so a write
 * by any replica, an archive and a new tenant under the same name are all seen at once,
 * and a hit costs one small row instead of parsing, redacting, projecting and serialising the
 * tenant again. A miss writes the document from the row's stored texts when that is provably the
 * same bytes — no secret value in the spec, texts as `JSON.stringify` wrote them
 * (tenant-document-text.ts) — and renders the parsed tenant otherwise.
 *
 * The cache holds rendered documents up to a byte budget, about least recently used out first; list pages
 * add theirs only while there is room (`offer`), so a walk through the fleet does not churn it. Once
 * the budget is full, a GET's miss evicts only for a key that missed recently too (`admit`): reads
 * spread over more tenants than fit would otherwise replace a cached document on every miss — no
 * better hit rate for them, but every rendering kept long enough to be garbage in the old
 * generation (docs/decisions.md, "Document cache admission, and one copy per rendering").
 */
import type { FastifyReply } from 'fastify';
import { NotFoundError } from '../domain/errors.js';
import type { Tenant } from '../domain/tenant.js';
import type { HeldVersion, TenantListQuery } from '../store/store.js';
import type { ApiContext } from './api-deps.js';
import { tenantDocumentText } from './tenant-document-text.js';
import { etagOf, serializeTenantView } from './tenant-view.js';

/** Rendered documents kept, in UTF-16 code units of their JSON (about bytes for ASCII documents). */
export const DOCUMENT_CACHE_BUDGET = 16 * 1024 * 1024;

/** Keys of recent misses that were not admitted: a second miss among them admits its document. */
const RECENT_MISSES = 4096;

/** The content type the response serialiser gives JSON answers. */
const JSON_TYPE = 'application/json; charset=utf-8';

interface Rendered extends HeldVersion {
  readonly body: string;
  /** `etagOf` the version, made with the body rather than on every GET that reuses it. */
  readonly etag: string;
}

/**
 * Least recently used out first, approximately ("second chance"): slots queue in the order they
 * were put, and a hit only marks its slot used. Eviction walks from the oldest slot; a used one is
 * moved to the newest end, unmarked, instead of being evicted. A hit thus costs one field write
 * rather than the delete and re-insert that exact recency order would take on every GET.
 */
interface Slot {
  readonly key: string;
  readonly entry: Rendered;
  used: boolean;
}

/** Queue entries kept beyond twice the slots held before the queue is compacted. */
const QUEUE_SLACK = 1024;

export class TenantDocumentCache {
  private readonly slots = new Map<string, Slot>();
  /**
   * The eviction order, oldest first from `head`: an array rather than the map's own insertion
   * order, whose oldest entry V8 finds only by skipping every entry deleted before it (see
   * `RecentKeys`). A slot no longer in `slots` (dropped or replaced) is passed over.
   */
  private queue: Slot[] = [];
  private head = 0;
  private size = 0;
  /** Oldest dropped first (see `admit`). */
  private readonly recentMisses = new RecentKeys(RECENT_MISSES);

  constructor(private readonly budget: number = DOCUMENT_CACHE_BUDGET) {}

  get(key: string): Rendered | undefined {
    return this.slots.get(key)?.entry;
  }

  /** Marks `key` as just used, if it still holds `entry` (another request may have replaced it). */
  touch(key: string, entry: Rendered): void {
    const slot = this.slots.get(key);
    if (slot?.entry === entry) slot.used = true;
  }

  put(key: string, entry: Rendered): void {
    this.drop(key);
    if (entry.body.length > this.budget) return;
    const added: Slot = { key, entry, used: false };
    this.slots.set(key, added);
    this.queue.push(added);
    this.size += entry.body.length;
    while (this.size > this.budget && this.head < this.queue.length) {
      const slot = this.queue[this.head++]!;
      if (this.slots.get(slot.key) !== slot) continue;
      if (slot.used) {
        slot.used = false;
        this.queue.push(slot);
      } else {
        this.slots.delete(slot.key);
        this.size -= slot.entry.body.length;
      }
    }
    if (this.queue.length > 2 * this.slots.size + QUEUE_SLACK) this.compact();
  }

  /** Drops passed and stale queue entries, keeping the order of the slots held. */
  private compact(): void {
    const queue: Slot[] = [];
    for (let at = this.head; at < this.queue.length; at++) {
      const slot = this.queue[at]!;
      // A slot is queued once while held (a used one is queued again only after being passed).
      if (this.slots.get(slot.key) === slot) queue.push(slot);
    }
    this.queue = queue;
    this.head = 0;
  }

  /**
   * `put` only while the budget has room, never evicting: a scan (a walk through list pages) fills
   * the cache but does not churn it, which would turn every rendering it reads into long-lived
   * garbage. A held entry that cannot be replaced is dropped.
   */
  offer(key: string, entry: Rendered): void {
    const current = this.slots.get(key)?.entry;
    if (this.size + entry.body.length - (current?.body.length ?? 0) <= this.budget) this.put(key, entry);
    else if (current) this.drop(key);
  }

  /**
   * `put` for a miss: always while the budget has room, and when it is full only for a key that
   * is held already (a newer version) or missed recently before — a tenant read again and again
   * gets in on its second miss, while reads spread evenly over more tenants than fit leave the
   * cache as it is instead of turning each rendering into long-lived garbage.
   */
  admit(key: string, entry: Rendered): void {
    const current = this.slots.get(key)?.entry;
    const fits = this.size + entry.body.length - (current?.body.length ?? 0) <= this.budget;
    if (fits || current || this.recentMisses.delete(key)) {
      this.put(key, entry);
      return;
    }
    this.recentMisses.add(key);
  }

  drop(key: string): void {
    const slot = this.slots.get(key);
    if (!slot) return;
    this.slots.delete(key);
    this.size -= slot.entry.body.length;
  }

  /** Entries and their total length (for tests). */
  stats(): { entries: number; size: number } {
    return { entries: this.slots.size, size: this.size };
  }
}

/**
 * A set of keys that drops its oldest once it holds more than `capacity`. Not a `Set` whose oldest
 * is `values().next()`: V8 leaves a deleted entry of an insertion-ordered hash table in place until
 * the table is rehashed, and an iterator skips every one of them, so at 4 096 keys with the oldest
 * dropped on every add, each add cost 4–6 µs (microbench) — on every cache miss once the budget is
 * full. Here the order is an array walked from a moving head, and a `Map` knows each held key's
 * place in it: an entry whose key was deleted (or added again later) since is passed over once.
 */
export class RecentKeys {
  /** Each held key → its index in `order`. */
  private readonly held = new Map<string, number>();
  /** Keys in the order they were added; before `head`, already passed. */
  private order: string[] = [];
  private head = 0;

  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.held.size;
  }

  has(key: string): boolean {
    return this.held.has(key);
  }

  /** Holds `key` as the newest unless it is held already (where it keeps its place, as in a `Set`). */
  add(key: string): void {
    if (this.held.has(key)) return;
    this.held.set(key, this.order.length);
    this.order.push(key);
    if (this.held.size > this.capacity) this.dropOldest();
    // Passed and stale entries are cleared at most once per `capacity` adds.
    if (this.order.length > 2 * this.capacity) this.compact();
  }

  /** True when `key` was held (it no longer is). */
  delete(key: string): boolean {
    return this.held.delete(key);
  }

  private dropOldest(): void {
    while (this.head < this.order.length) {
      const at = this.head++;
      const key = this.order[at]!;
      if (this.held.get(key) === at) {
        this.held.delete(key);
        return;
      }
    }
  }

  private compact(): void {
    const order: string[] = [];
    for (let at = this.head; at < this.order.length; at++) {
      const key = this.order[at]!;
      if (this.held.get(key) !== at) continue;
      this.held.set(key, order.length);
      order.push(key);
    }
    this.order = order;
    this.head = 0;
  }
}

/** Answers 200 with the tenant's document and ETag; NotFoundError when there is no such tenant. */
export async function sendTenantDocument(
  ctx: ApiContext,
  cache: TenantDocumentCache,
  reply: FastifyReply,
  idOrName: string,
): Promise<FastifyReply> {
  const held = cache.get(idOrName);
  const read = await ctx.deps.store.tenants.getForView(idOrName, held);
  if (!read) {
    cache.drop(idOrName);
    throw new NotFoundError('tenant', idOrName);
  }
  let rendered: Rendered;
  if (read.unchanged) {
    // The store answers `unchanged` only for the id and version it was given.
    if (!held) throw new Error('the store found a held tenant document current, but none was held');
    rendered = held;
    cache.touch(idOrName, held);
  } else {
    const { document } = read;
    const body =
      tenantDocumentText(document, ctx.deps.providers) ??
      serializeTenantView(document.tenant(), ctx.deps.providers);
    rendered = { id: document.id, version: document.version, body, etag: etagOf(document) };
    cache.admit(idOrName, rendered);
  }
  return reply.code(200).header('etag', rendered.etag).header('content-type', JSON_TYPE).send(rendered.body);
}

/**
 * Answers a page of `GET /v1/tenants`: each item's rendering is reused (by id) while its row is at
 * the version it was rendered from; the page is the items' JSON joined, byte for byte what the
 * response serialiser writes for `{items, nextCursor}`.
 */
export async function sendTenantPage(
  ctx: ApiContext,
  cache: TenantDocumentCache,
  reply: FastifyReply,
  query: TenantListQuery,
): Promise<FastifyReply> {
  // The renderings offered as held, kept here: another request may replace them meanwhile.
  const offered = new Map<string, Rendered>();
  const page = await ctx.deps.store.tenants.listForView(query, (id) => {
    const entry = cache.get(id);
    if (entry?.id !== id) return undefined;
    offered.set(id, entry);
    return entry.version;
  });
  const items = page.items.map((item) => {
    if (item.unchanged) {
      const held = offered.get(item.held.id);
      if (held?.version !== item.held.version) {
        throw new Error('the store found a held tenant document current, but none was held');
      }
      cache.touch(item.held.id, held);
      return held.body;
    }
    const rendered = render(item.tenant, ctx);
    cache.offer(item.tenant.id, rendered);
    return rendered.body;
  });
  const body = `{"items":[${items.join(',')}],"nextCursor":${JSON.stringify(page.nextCursor)}}`;
  return reply.code(200).header('content-type', JSON_TYPE).send(body);
}

function render(tenant: Tenant, ctx: ApiContext): Rendered {
  const body = serializeTenantView(tenant, ctx.deps.providers);
  return { id: tenant.id, version: tenant.version, body, etag: etagOf(tenant) };
}
