/**
 * Tenants: server-side filters (phase, provider, label selector, name prefix) and cursor paging, all
 * kept in the hash so a filtered page can be bookmarked; rows change phase live from the event
 * stream. The tenant, create and edit views are routed from here too.
 */
import { useState } from 'preact/hooks';
import type { ListTenantsParams } from '../../../src/api/types.js';
import { PHASES, type Phase } from '../../../src/domain/tenant.js';
import { ErrorBox, Loading, PageTitle, PhaseBadge, Time } from '../components/common.js';
import { api } from '../lib/api.js';
import { useCan, useLiveEvents, useStreamState } from '../lib/app-context.js';
import { labelPairs } from '../lib/format.js';
import type { RouteDef, ViewProps } from '../lib/route-def.js';
import { href } from '../lib/router.js';
import { useAsync } from '../lib/use-async.js';
import { applyToRows } from '../live/reducer.js';
import { lazyView } from '../lib/lazy-view.js';

const PAGE_SIZE = 50;
const FILTERS = ['phase', 'provider', 'labels', 'q'] as const;

function filtersOf(query: URLSearchParams): Record<(typeof FILTERS)[number], string> {
  return Object.fromEntries(FILTERS.map((key) => [key, query.get(key) ?? ''])) as Record<
    (typeof FILTERS)[number],
    string
  >;
}

function Tenants({ query }: ViewProps) {
  const filters = filtersOf(query);
  const cursor = query.get('cursor') ?? undefined;
  const canWrite = useCan('write');
  const { reconnects } = useStreamState();
  const params: ListTenantsParams = {
    limit: PAGE_SIZE,
    ...(cursor && { cursor }),
    ...(filters.phase && { phase: filters.phase as Phase }),
    ...(filters.provider && { provider: filters.provider }),
    ...(filters.labels && { labels: filters.labels }),
    ...(filters.q && { q: filters.q }),
  };
  const page = useAsync(() => api().listTenants(params), [query.toString(), reconnects], {
    replayUpdates: true,
  });
  useLiveEvents((event) => page.setData((p) => ({ ...p, items: applyToRows(p.items, event) })));
  return (
    <>
      <div class="title-row">
        <PageTitle title="Tenants">Tenants</PageTitle>
        {canWrite && (
          <a class="button" href={href('/new/tenant')}>
            New tenant
          </a>
        )}
      </div>
      <FilterForm key={FILTERS.map((k) => filters[k]).join('\n')} initial={filters} />
      <ErrorBox error={page.error} />
      {page.data === undefined ? (
        !page.error && <Loading what="Loading tenants" />
      ) : page.data.items.length === 0 ? (
        <p class="muted">No tenant matches.</p>
      ) : (
        <table class="tenants" data-testid="tenant-table" aria-busy={page.loading}>
          <caption class="sr-only">Tenants{cursor ? ', a later page' : ', first page'}</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Phase</th>
              <th scope="col">Provider</th>
              <th scope="col">Gen.</th>
              <th scope="col">Labels</th>
              <th scope="col">Updated</th>
            </tr>
          </thead>
          <tbody>
            {page.data.items.map((t) => (
              <tr key={t.id} data-tenant={t.name}>
                <td>
                  <a href={href('/tenants/:name', { name: t.name })}>{t.name}</a>
                </td>
                <td>
                  <PhaseBadge phase={t.status.phase} />
                </td>
                <td>{t.spec.provider}</td>
                <td class="num">{t.generation}</td>
                <td class="labels">{labelPairs(t.spec.labels).join(', ')}</td>
                <td>
                  <Time at={t.updatedAt} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <nav class="pager" aria-label="Pages">
        {cursor && <a href={href('/tenants', {}, filters)}>First page</a>}
        {page.data?.nextCursor && (
          <a href={href('/tenants', {}, { ...filters, cursor: page.data.nextCursor })} rel="next">
            Next page
          </a>
        )}
      </nav>
    </>
  );
}

function FilterForm({ initial }: { initial: Record<(typeof FILTERS)[number], string> }) {
  const [values, setValues] = useState(initial);
  const providers = useAsync(() => api().listProviders(), []);
  const set =
    (key: (typeof FILTERS)[number]) => (e: { currentTarget: HTMLInputElement | HTMLSelectElement }) =>
      setValues((v) => ({ ...v, [key]: e.currentTarget.value }));
  return (
    <form
      class="filters"
      role="search"
      aria-label="Filter tenants"
      onSubmit={(e) => {
        e.preventDefault();
        location.hash = href('/tenants', {}, values);
      }}
    >
      <div>
        <label for="f-q">Name starts with</label>
        <input id="f-q" value={values.q} onInput={set('q')} autoComplete="off" />
      </div>
      <div>
        <label for="f-phase">Phase</label>
        <select id="f-phase" value={values.phase} onChange={set('phase')}>
          <option value="">any</option>
          {PHASES.map((p) => (
            <option key={p} value={p}>
              {p}
            </option>
          ))}
        </select>
      </div>
      <div>
        <label for="f-provider">Provider</label>
        <select id="f-provider" value={values.provider} onChange={set('provider')}>
          <option value="">any</option>
          {providers.data?.items.map((p) => (
            <option key={p.type} value={p.type}>
              {p.type}
            </option>
          ))}
        </select>
      </div>
      <div>
        <label for="f-labels">Labels</label>
        <input
          id="f-labels"
          value={values.labels}
          onInput={set('labels')}
          placeholder="plan=pro,tier!=free"
          autoComplete="off"
        />
      </div>
      <div class="filter-actions">
        <button type="submit">Apply filters</button>
        <a href={href('/tenants')}>Clear</a>
      </div>
    </form>
  );
}

export const tenantRoutes: RouteDef[] = [
  { path: '/tenants', title: 'Tenants', nav: true, view: (p) => <Tenants {...p} /> },
  {
    path: '/new/tenant',
    title: 'New tenant',
    grant: 'write',
    view: lazyView(() => import('./tenant-create.js').then((m) => m.CreateTenant)),
  },
  {
    path: '/tenants/:name',
    title: 'Tenant',
    view: lazyView(() => import('./tenant.js').then((m) => m.TenantView)),
  },
  {
    path: '/tenants/:name/edit',
    title: 'Edit tenant',
    grant: 'write',
    view: lazyView(() => import('./tenant-edit.js').then((m) => m.EditTenant)),
  },
];
