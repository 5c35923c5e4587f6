/** The audit trail (admins only): acts that erase their own history, newest first. */
import { ErrorBox, Loading, PageTitle, Time } from '../components/common.js';
import { api } from '../lib/api.js';
import type { RouteDef, ViewProps } from '../lib/route-def.js';
import { href } from '../lib/router.js';
import { useAsync } from '../lib/use-async.js';

function Audit({ query }: ViewProps) {
  const cursor = query.get('cursor') ?? undefined;
  const page = useAsync(() => api().listAudit({ limit: 50, ...(cursor && { cursor }) }), [cursor]);
  return (
    <>
      <PageTitle title="Audit">Audit trail</PageTitle>
      <ErrorBox error={page.error} />
      {!page.data ? (
        !page.error && <Loading />
      ) : page.data.items.length === 0 ? (
        <p>No audit record yet.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Actor</th>
              <th scope="col">Action</th>
              <th scope="col">Target</th>
            </tr>
          </thead>
          <tbody>
            {page.data.items.map((r) => (
              <tr key={r.id}>
                <td>
                  <Time at={r.at} />
                </td>
                <td>{r.actor}</td>
                <td>{r.action}</td>
                <td>{r.targetName}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <nav class="pager" aria-label="Pages">
        {cursor && <a href={href('/audit')}>First page</a>}
        {page.data?.nextCursor && (
          <a href={href('/audit', {}, { cursor: page.data.nextCursor })}>Next page</a>
        )}
      </nav>
    </>
  );
}

export const auditRoutes: RouteDef[] = [
  { path: '/audit', title: 'Audit', nav: true, grant: 'admin', view: (p) => <Audit {...p} /> },
];
