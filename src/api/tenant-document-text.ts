/**
 * A tenant's GET document written from its row's stored texts: byte for byte
 * `serializeTenantView(document.tenant(), providers)` (tenant-view.ts), without parsing the spec
 * and status into objects, masking, projecting and writing them out again — what a GET that misses
 * the document cache (tenant-documents.ts) would otherwise pay (docs/decisions.md, "A cache-missed
 * GET written from the row's texts").
 *
 * Only when that is provable; `undefined` otherwise, and the caller renders the ordinary way:
 * - the store handed out the spec's text, which it does only when masking replaces no value in it
 *   (`SpecCodec.unmaskedText`), and the provider catalog finds no secret field of the spec's
 *   provider named in it either (`mayHoldSecrets`: the API's own redaction would change nothing);
 * - both texts are already what the projection writes, but for defaults it inserts (wire-text.ts).
 */
import { leadingProvider } from '../store/sealed-specs.js';
import type { TenantViewDocument } from '../store/store.js';
import type { ProviderCatalog } from './api-deps.js';
import { TenantSchema, TenantSpecSchema, TenantStatusSchema } from './schemas.js';
import { textProjection } from './wire-text.js';

/** `TenantSchema`'s fields in its order, as written below; checked when the module loads. */
const TENANT_FIELDS = ['id', 'name', 'spec', 'generation', 'status', 'version', 'createdAt', 'updatedAt'];
if (Object.keys(TenantSchema.shape).join() !== TENANT_FIELDS.join()) {
  throw new Error(`tenant-document-text.ts writes ${TENANT_FIELDS.join()}; TenantSchema changed`);
}

/**
 * The spec as `serializeTenantView` writes it: projected by `TenantSpecSchema`, except that
 * `suspended` is `isSuspended(spec)` — false when absent; a stored value other than a boolean is
 * left to the ordinary rendering.
 */
const projectSpec = textProjection(TenantSpecSchema, {
  suspended: { pattern: '(?:true|false)', absent: 'false' },
});
const projectStatus = textProjection(TenantStatusSchema);

/**
 * How many spec texts `specOnTheWire` remembers per provider catalog; when full it starts afresh
 * (a fleet with more distinct specs than this pays one `Map` lookup per GET for nothing).
 */
export const SPEC_MEMO_SIZE = 512;
/** Longer spec texts are not remembered: the memo holds at most about 512 × 2 × 4 096 characters. */
export const SPEC_MEMO_MAX_LENGTH = 4096;

/** Specs already written, by stored text, per catalog (`mayHoldSecrets` is the catalog's). */
const specMemos = new WeakMap<object, Map<string, string>>();

/**
 * The spec's text as the document writes it, or `undefined` when the API's redaction might change
 * it or the text is not in the projection's form. A pure function of the text and the catalog, so
 * the answers are remembered: tenants of one fleet often share a spec text (same provider, image,
 * config and labels), and the check and match cost a cache-missed GET several µs (docs/decisions.md,
 * "A GET's fixed costs, measured again"). Only texts that passed are kept, and only short ones.
 */
function specOnTheWire(
  specText: string,
  providers: Pick<ProviderCatalog, 'mayHoldSecrets'>,
): string | undefined {
  let memo = specMemos.get(providers);
  if (memo === undefined) specMemos.set(providers, (memo = new Map<string, string>()));
  const known = memo.get(specText);
  if (known !== undefined) return known;
  // The spec's provider is its first field (the projection matched it so); the API redacts by it.
  const provider = leadingProvider(specText);
  if (provider === undefined || providers.mayHoldSecrets(provider, specText)) return undefined;
  const spec = projectSpec(specText);
  if (spec === undefined) return undefined;
  if (specText.length > SPEC_MEMO_MAX_LENGTH) return spec;
  if (memo.size >= SPEC_MEMO_SIZE) memo.clear();
  memo.set(specText, spec);
  return spec;
}

/** The document `serializeTenantView` writes for `document.tenant()`, or `undefined` (see above). */
export function tenantDocumentText(
  document: TenantViewDocument,
  providers: Pick<ProviderCatalog, 'mayHoldSecrets'>,
): string | undefined {
  const { specText } = document;
  if (specText === undefined) return undefined;
  const spec = specOnTheWire(specText, providers);
  if (spec === undefined) return undefined;
  const status = projectStatus(document.statusText);
  if (status === undefined) return undefined;
  return (
    `{"id":${JSON.stringify(document.id)},"name":${JSON.stringify(document.name)},"spec":${spec}` +
    `,"generation":${JSON.stringify(document.generation)},"status":${status}` +
    `,"version":${JSON.stringify(document.version)},"createdAt":${JSON.stringify(document.createdAt)}` +
    `,"updatedAt":${JSON.stringify(document.updatedAt)}}`
  );
}
