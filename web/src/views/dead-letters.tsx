/** Dead letters: callbacks parked after their last delivery attempt; an admin may redrive them. */
import { useState } from 'preact/hooks';
import { ErrorBox, Loading, PageTitle, Time } from '../components/common.js';
import { api } from '../lib/api.js';
import { useCan, useStreamState } from '../lib/app-context.js';
import type { RouteDef, ViewProps } from '../lib/route-def.js';
import { href } from '../lib/router.js';
import { useAsync } from '../lib/use-async.js';

function DeadLetters({ query }: ViewProps) {
  const cursor = query.get('cursor') ?? undefined;
  const { reconnects } = useStreamState();
  const page = useAsync(
    () => api().listCallbacks({ state: 'dead', limit: 50, ...(cursor && { cursor }) }),
    [cursor, reconnects],
  );
  const canRedrive = useCan('admin');
  const [error, setError] = useState<unknown>(undefined);
  const [done, setDone] = useState<readonly string[]>([]);
  const redrive = async (id: string) => {
    setError(undefined);
    try {
      await api().redriveCallback(id);
      setDone((d) => [...d, id]);
    } catch (e) {
      setError(e);
    }
  };
  return (
    <>
      <PageTitle title="Dead letters">Dead letters</PageTitle>
      <p class="muted">
        Callbacks from compute executions to their workflows that could not be delivered after every retry.
      </p>
      <ErrorBox error={page.error ?? error} />
      {!page.data ? (
        !page.error && <Loading />
      ) : page.data.items.length === 0 ? (
        <p>No dead letter.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Tenant</th>
              <th scope="col">Operation</th>
              <th scope="col">Status</th>
              <th scope="col">Attempts</th>
              <th scope="col">Last error</th>
              <th scope="col">Parked</th>
              {canRedrive && <th scope="col">Action</th>}
            </tr>
          </thead>
          <tbody>
            {page.data.items.map((c) => (
              <tr key={c.id}>
                <td>
                  <a href={href('/tenants/:name', { name: c.tenantId })} class="mono">
                    {c.tenantId.slice(0, 8)}
                  </a>
                </td>
                <td>
                  <a href={href('/executions/:id', { id: c.executionId })}>{c.payload.operation}</a>
                </td>
                <td>{c.payload.status}</td>
                <td class="num">{c.attempts}</td>
                <td class="wrap">{c.lastError ?? ''}</td>
                <td>
                  <Time at={c.createdAt} />
                </td>
                {canRedrive && (
                  <td>
                    {done.includes(c.id) ? (
                      <span role="status">redriven</span>
                    ) : (
                      <button type="button" onClick={() => void redrive(c.id)}>
                        Redrive
                      </button>
                    )}
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <nav class="pager" aria-label="Pages">
        {cursor && <a href={href('/dead-letters')}>First page</a>}
        {page.data?.nextCursor && (
          <a href={href('/dead-letters', {}, { cursor: page.data.nextCursor })}>Next page</a>
        )}
      </nav>
    </>
  );
}

export const deadLetterRoutes: RouteDef[] = [
  { path: '/dead-letters', title: 'Dead letters', nav: true, view: (p) => <DeadLetters {...p} /> },
];
