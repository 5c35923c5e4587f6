/** The configured compute providers, their defaults (secrets masked) and per-call timeouts. */
import { ErrorBox, Loading, PageTitle } from '../components/common.js';
import { api } from '../lib/api.js';
import { duration, toJson } from '../lib/format.js';
import type { RouteDef } from '../lib/route-def.js';
import { useAsync } from '../lib/use-async.js';

function Providers() {
  const providers = useAsync(() => api().listProviders(), []);
  return (
    <>
      <PageTitle title="Providers">Providers</PageTitle>
      <ErrorBox error={providers.error} />
      {!providers.data ? (
        !providers.error && <Loading />
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Type</th>
              <th scope="col">Default</th>
              <th scope="col">Timeout</th>
              <th scope="col">Defaults</th>
            </tr>
          </thead>
          <tbody>
            {providers.data.items.map((p) => (
              <tr key={p.type}>
                <td>{p.type}</td>
                <td>{p.default ? 'yes' : ''}</td>
                <td>{duration(p.timeoutMs)}</td>
                <td>
                  {Object.keys(p.defaults).length === 0 ? (
                    <span class="muted">none</span>
                  ) : (
                    <pre class="code small">{toJson(p.defaults)}</pre>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

export const providerRoutes: RouteDef[] = [
  { path: '/providers', title: 'Providers', nav: true, view: () => <Providers /> },
];
