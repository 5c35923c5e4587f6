/** A workflow run with its step journal, and a compute execution with its status history. */
import { ErrorBox, KeyValues, Loading, PageTitle, Section, Time } from '../components/common.js';
import { api } from '../lib/api.js';
import { useLiveEvents } from '../lib/app-context.js';
import { duration, toJson } from '../lib/format.js';
import type { RouteDef, ViewProps } from '../lib/route-def.js';
import { href } from '../lib/router.js';
import { useAsync } from '../lib/use-async.js';

function RunView({ params }: ViewProps) {
  const run = useAsync(() => api().getRun(params.runId!), [params.runId]);
  useLiveEvents((event) => event.runId === params.runId && run.reload());
  const r = run.data;
  return (
    <>
      <PageTitle title="Workflow run">Workflow run</PageTitle>
      <ErrorBox error={run.error} />
      {!r ? (
        !run.error && <Loading />
      ) : (
        <>
          <KeyValues
            rows={[
              ['Run', <span class="mono">{r.runId}</span>],
              ['Tenant', <a href={href('/tenants/:name', { name: r.tenantId })}>{r.tenantId}</a>],
              ['Action', r.action],
              ['State', <span data-testid="run-state">{r.state}</span>],
              ['Attempt', r.attempt],
              ['Generation', r.generation],
              ['Engine', r.engine],
              ['Triggered by', r.triggerSource],
              ['Created', <Time at={r.createdAt} />],
              ['Finished', <Time at={r.finishedAt} />],
            ]}
          />
          {r.error !== null && r.error !== undefined && (
            <Section title="Error">
              <pre class="code">{toJson(r.error)}</pre>
            </Section>
          )}
          <Section title="Steps">
            <table>
              <thead>
                <tr>
                  <th scope="col">#</th>
                  <th scope="col">Name</th>
                  <th scope="col">Kind</th>
                  <th scope="col">Status</th>
                  <th scope="col">Started</th>
                  <th scope="col">Took</th>
                </tr>
              </thead>
              <tbody>
                {r.steps.map((s) => (
                  <tr key={s.seq}>
                    <td class="num">{s.seq}</td>
                    <td class="mono">{s.name}</td>
                    <td>{s.kind}</td>
                    <td>{s.status}</td>
                    <td>
                      <Time at={s.startedAt} />
                    </td>
                    <td>{duration(s.durationMs)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </Section>
        </>
      )}
    </>
  );
}

function ExecutionView({ params }: ViewProps) {
  const execution = useAsync(() => api().getExecution(params.id!), [params.id]);
  useLiveEvents((event) => event.executionId === params.id && execution.reload());
  const x = execution.data;
  return (
    <>
      <PageTitle title="Compute execution">Compute execution</PageTitle>
      <ErrorBox error={execution.error} />
      {!x ? (
        !execution.error && <Loading />
      ) : (
        <>
          <KeyValues
            rows={[
              ['Execution', <span class="mono">{x.executionId}</span>],
              ['Tenant', <a href={href('/tenants/:name', { name: x.tenantId })}>{x.tenantId}</a>],
              ['Run', <a href={href('/runs/:runId', { runId: x.workflowRunId })}>{x.workflowRunId}</a>],
              ['Operation', x.operation],
              ['Provider', x.provider],
              ['Status', x.status],
              ['Attempt', x.attempt],
              ['Generation', x.generation],
              ['Error', x.error ? `${x.error.code}: ${x.error.message}` : '—'],
            ]}
          />
          <Section title="History">
            <table>
              <thead>
                <tr>
                  <th scope="col">#</th>
                  <th scope="col">Status</th>
                  <th scope="col">Attempt</th>
                  <th scope="col">At</th>
                </tr>
              </thead>
              <tbody>
                {x.history.map((h) => (
                  <tr key={h.seq}>
                    <td class="num">{h.seq}</td>
                    <td>{h.status}</td>
                    <td class="num">{h.attempt}</td>
                    <td>
                      <Time at={h.at} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </Section>
        </>
      )}
    </>
  );
}

export const runRoutes: RouteDef[] = [
  { path: '/runs/:runId', title: 'Workflow run', view: (p) => <RunView {...p} /> },
  { path: '/executions/:id', title: 'Compute execution', view: (p) => <ExecutionView {...p} /> },
];
