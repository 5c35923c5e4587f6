/** A workflow run with its step journal, and a compute execution with its status history. */
import type { ComponentChildren } from 'preact';
import { ErrorBox, KeyValues, Loading, PageTitle, Section, Time } from '../components/common.js';
import { api } from '../lib/api.js';
import { useLiveEvents } from '../lib/app-context.js';
import { duration, toJson } from '../lib/format.js';
import type { RouteDef, ViewProps } from '../lib/route-def.js';
import { href } from '../lib/router.js';
import { useAsync, type Async } from '../lib/use-async.js';

/** One record's page: its title, the API's error, "Loading…" until the record is there, then the body. */
function RecordPage<T>({
  title,
  record,
  children,
}: {
  title: string;
  record: Async<T>;
  children: (loaded: T) => ComponentChildren;
}) {
  return (
    <>
      <PageTitle title={title}>{title}</PageTitle>
      <ErrorBox error={record.error} />
      {record.data === undefined ? !record.error && <Loading /> : children(record.data)}
    </>
  );
}

interface Column<T> {
  readonly header: string;
  readonly cell: (row: T) => ComponentChildren;
  /** The cell's class: `num` right-aligns a number, `mono` sets an identifier in monospace. */
  readonly class?: 'num' | 'mono';
}

/** A journal's entries, one row each in `seq` order, under a titled section. */
function JournalSection<T extends { readonly seq: number }>({
  title,
  columns,
  rows,
}: {
  title: string;
  columns: readonly Column<T>[];
  rows: readonly T[];
}) {
  return (
    <Section title={title}>
      <table>
        <thead>
          <tr>
            <th scope="col">#</th>
            {columns.map((c) => (
              <th scope="col" key={c.header}>
                {c.header}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.seq}>
              <td class="num">{row.seq}</td>
              {columns.map((c) => (
                <td key={c.header} class={c.class}>
                  {c.cell(row)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </Section>
  );
}

function RunView({ params }: ViewProps) {
  const run = useAsync(() => api().getRun(params.runId!), [params.runId]);
  useLiveEvents((event) => event.runId === params.runId && run.reload());
  return (
    <RecordPage title="Workflow run" record={run}>
      {(r) => (
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
          <JournalSection
            title="Steps"
            rows={r.steps}
            columns={[
              { header: 'Name', cell: (s) => s.name, class: 'mono' },
              { header: 'Kind', cell: (s) => s.kind },
              { header: 'Status', cell: (s) => s.status },
              { header: 'Started', cell: (s) => <Time at={s.startedAt} /> },
              { header: 'Took', cell: (s) => duration(s.durationMs) },
            ]}
          />
        </>
      )}
    </RecordPage>
  );
}

function ExecutionView({ params }: ViewProps) {
  const execution = useAsync(() => api().getExecution(params.id!), [params.id]);
  useLiveEvents((event) => event.executionId === params.id && execution.reload());
  return (
    <RecordPage title="Compute execution" record={execution}>
      {(x) => (
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
          <JournalSection
            title="History"
            rows={x.history}
            columns={[
              { header: 'Status', cell: (h) => h.status },
              { header: 'Attempt', cell: (h) => h.attempt, class: 'num' },
              { header: 'At', cell: (h) => <Time at={h.at} /> },
            ]}
          />
        </>
      )}
    </RecordPage>
  );
}

export const runRoutes: RouteDef[] = [
  { path: '/runs/:runId', title: 'Workflow run', view: (p) => <RunView {...p} /> },
  { path: '/executions/:id', title: 'Compute execution', view: (p) => <ExecutionView {...p} /> },
];
