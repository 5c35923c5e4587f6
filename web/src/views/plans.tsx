/**
 * Plans: the list (each at its latest revision, paged by cursor); an admin may create one. The
 * plan page (revisions, diffs, a new revision) loads on first use.
 */
import { useState } from 'preact/hooks';
import { ErrorBox, Loading, PageTitle, Section, Time } from '../components/common.js';
import { api } from '../lib/api.js';
import { useCan } from '../lib/app-context.js';
import { lazyView } from '../lib/lazy-view.js';
import type { RouteDef, ViewProps } from '../lib/route-def.js';
import { href } from '../lib/router.js';
import { useAsync } from '../lib/use-async.js';

function Plans({ query }: ViewProps) {
  const cursor = query.get('cursor') ?? undefined;
  const isAdmin = useCan('admin');
  const page = useAsync(() => api().listPlans({ limit: 50, ...(cursor && { cursor }) }), [cursor]);
  return (
    <>
      <PageTitle title="Plans">Plans</PageTitle>
      <p class="muted">
        A plan is a provider config that tenants are made from; each change is a new revision, and a tenant
        stays on the revision it is pinned to.
      </p>
      <ErrorBox error={page.error} />
      {!page.data ? (
        !page.error && <Loading what="Loading plans" />
      ) : page.data.items.length === 0 ? (
        <p class="muted">No plan yet.</p>
      ) : (
        <table data-testid="plan-table">
          <caption class="sr-only">Plans by name</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Revision</th>
              <th scope="col">Provider</th>
              <th scope="col">Overrides allowed</th>
              <th scope="col">Description</th>
              <th scope="col">Updated</th>
            </tr>
          </thead>
          <tbody>
            {page.data.items.map((p) => (
              <tr key={p.name} data-plan={p.name}>
                <td>
                  <a href={href('/plans/:name', { name: p.name })}>{p.name}</a>
                </td>
                <td class="num">{p.revision}</td>
                <td>{p.spec.provider}</td>
                <td class="mono">{p.allowedOverrides.join(', ') || '—'}</td>
                <td class="wrap">{p.description}</td>
                <td>
                  <Time at={p.updatedAt} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <nav class="pager" aria-label="Pages">
        {cursor && <a href={href('/plans')}>First page</a>}
        {page.data?.nextCursor && (
          <a href={href('/plans', {}, { cursor: page.data.nextCursor })}>Next page</a>
        )}
      </nav>
      {isAdmin && <CreatePlan />}
    </>
  );
}

/** Admin: a new plan from a name, provider, config (YAML) and the config paths tenants may set. */
function CreatePlan() {
  const providers = useAsync(() => api().listProviders(), []);
  const [name, setName] = useState('');
  const [provider, setProvider] = useState('');
  const [description, setDescription] = useState('');
  const [config, setConfig] = useState('image: nginx:alpine\n');
  const [overrides, setOverrides] = useState('/env');
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const chosen = provider || providers.data?.defaultProvider || providers.data?.items[0]?.type || '';
  const submit = async () => {
    setBusy(true);
    setError(undefined);
    try {
      const { yamlToObject } = await import('../lib/spec-yaml.js');
      const plan = await api().createPlan({
        name: name.trim(),
        description,
        spec: { provider: chosen, config: yamlToObject(config) },
        allowedOverrides: overrides
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== ''),
      });
      location.hash = href('/plans/:name', { name: plan.name });
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  };
  return (
    <Section title="New plan">
      <form
        class="stack"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <label for="p-name">Plan name</label>
        <input
          id="p-name"
          value={name}
          onInput={(e) => setName(e.currentTarget.value)}
          required
          autoComplete="off"
        />
        <label for="p-provider">Provider</label>
        <select id="p-provider" value={chosen} onChange={(e) => setProvider(e.currentTarget.value)}>
          {providers.data?.items.map((p) => (
            <option key={p.type} value={p.type}>
              {p.type}
            </option>
          ))}
        </select>
        <label for="p-description">Description</label>
        <input
          id="p-description"
          value={description}
          onInput={(e) => setDescription(e.currentTarget.value)}
        />
        <label for="p-config">Config (YAML)</label>
        <textarea
          id="p-config"
          class="mono"
          rows={6}
          spellcheck={false}
          value={config}
          onInput={(e) => setConfig(e.currentTarget.value)}
        />
        <label for="p-overrides">Overrides allowed (JSON Pointers into config, comma-separated)</label>
        <input id="p-overrides" value={overrides} onInput={(e) => setOverrides(e.currentTarget.value)} />
        <div class="actions">
          <button type="submit" disabled={busy}>
            Create plan
          </button>
        </div>
        <ErrorBox error={error} />
      </form>
    </Section>
  );
}

export const planRoutes: RouteDef[] = [
  { path: '/plans', title: 'Plans', nav: true, view: (p) => <Plans {...p} /> },
  {
    path: '/plans/:name',
    title: 'Plan',
    view: lazyView(() => import('./plan.js').then((m) => m.PlanView)),
  },
];
