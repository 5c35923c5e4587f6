/**
 * One tenant: status, conditions, endpoints, spec (secrets masked by the server), executions, the
 * event timeline (history, then live), revisions with diffs and rollback, live runtime logs, and the
 * actions its phase and the caller's role allow — edit (with the server's dry-run diff), suspend and
 * resume (confirmed), pause/resume reconciling, retry, delete (typing the name to confirm). Every write sends
 * `If-Match` with the version on screen, so a change made meanwhile is refused (412), not
 * overwritten. Each live event of the tenant re-reads it: the page shows the server's state.
 */
import type { Ref } from 'preact';
import { useRef, useState } from 'preact/hooks';
import type { Tenant, TenantEvent } from '../../../src/api/types.js';
import { ErrorBox, KeyValues, Loading, PageTitle, PhaseBadge, Section, Time } from '../components/common.js';
import { ConfirmDialog } from '../components/confirm-dialog.js';
import { api } from '../lib/api.js';
import { useCan, useLiveEvents, useStreamState } from '../lib/app-context.js';
import { elapsed, eventLine, labelPairs } from '../lib/format.js';
import type { ViewProps } from '../lib/route-def.js';
import { href } from '../lib/router.js';
import { specToYaml } from '../lib/spec-yaml.js';
import { useAsync } from '../lib/use-async.js';
import { useDebounced } from '../lib/use-debounced.js';
import { appendEvent } from '../live/reducer.js';
import { TenantLogs } from './tenant-logs.js';
import { TenantRevisions } from './tenant-revisions.js';

const HISTORY_PAGES = 4;
const HISTORY_PAGE = 500;
const TIMELINE_SHOWN = 200;

async function loadHistory(id: string): Promise<readonly TenantEvent[]> {
  const events: TenantEvent[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < HISTORY_PAGES; i++) {
    const page = await api().tenantEvents(id, { limit: HISTORY_PAGE, ...(cursor && { cursor }) });
    events.push(...page.items);
    if (!page.nextCursor) break;
    cursor = page.nextCursor;
  }
  return events;
}

export function TenantView({ params }: ViewProps) {
  const { reconnects } = useStreamState();
  const canWrite = useCan('write');
  // After the first load the tenant is read by id: its name stops resolving once it is archived.
  const known = useRef<string | undefined>(undefined);
  const tenant = useAsync(() => api().getTenant(known.current ?? params.name!), [params.name, reconnects]);
  const id = tenant.data?.id;
  known.current = id;
  const executions = useAsync(
    () => (id ? api().tenantExecutions(id, { limit: 20 }) : Promise.resolve(undefined)),
    [id, reconnects],
  );
  // An event that arrives while the history loads is appended to what it loads as well.
  const history = useAsync(() => (id ? loadHistory(id) : Promise.resolve([])), [id, reconnects], {
    replayUpdates: true,
  });
  const refresh = useDebounced(() => {
    tenant.reload();
    executions.reload();
  }, 150);
  useLiveEvents((event) => {
    if (event.tenantId !== id) return;
    history.setData((events) => appendEvent(events, event));
    refresh();
  });

  if (tenant.data === undefined) {
    return (
      <>
        <PageTitle title={params.name!}>Tenant {params.name}</PageTitle>
        {tenant.error ? <ErrorBox error={tenant.error} /> : <Loading what="Loading tenant" />}
      </>
    );
  }
  const t = tenant.data;
  return (
    <>
      <div class="title-row">
        <PageTitle title={t.name}>
          {t.name} <PhaseBadge phase={t.status.phase} />
        </PageTitle>
        <Actions tenant={t} onDone={() => tenant.reload()} />
      </div>
      <ErrorBox error={tenant.error} />
      <div class="columns">
        <Section title="Status">
          <KeyValues
            rows={[
              ['Phase', <span data-testid="phase">{t.status.phase}</span>],
              ['Message', t.status.message || '—'],
              ['Generation', <span data-testid="generation">{t.generation}</span>],
              ['Observed generation', t.status.observedGeneration],
              ['Version', t.version],
              ['Provider', t.spec.provider],
              ['Paused', t.spec.paused ? 'yes' : 'no'],
              ['Suspended', <span data-testid="suspended">{t.spec.suspended ? 'yes' : 'no'}</span>],
              ['Labels', labelPairs(t.spec.labels).join(', ') || '—'],
              [
                'Workflow run',
                t.status.workflow ? (
                  <a href={href('/runs/:runId', { runId: t.status.workflow.runId })}>
                    {t.status.workflow.action} · {t.status.workflow.state} · attempt{' '}
                    {t.status.workflow.attempt}
                  </a>
                ) : (
                  '—'
                ),
              ],
              ['Created', <Time at={t.createdAt} />],
              ['Updated', <Time at={t.updatedAt} />],
              ['Id', <span class="mono">{t.id}</span>],
            ]}
          />
          {t.status.lastError && (
            <div class="error" role="note">
              <strong>{t.status.lastError.code}</strong> ({t.status.lastError.classification}):{' '}
              {t.status.lastError.message}
            </div>
          )}
        </Section>
        <Section title="Endpoints">
          {t.status.endpoints.length === 0 ? (
            <p class="muted">No endpoint.</p>
          ) : (
            <ul>
              {t.status.endpoints.map((e) => (
                <li key={e.name}>
                  {e.name}:{' '}
                  <a href={e.url} rel="noreferrer noopener" target="_blank">
                    {e.url}
                  </a>
                </li>
              ))}
            </ul>
          )}
          <h3>Conditions</h3>
          <table>
            <thead>
              <tr>
                <th scope="col">Type</th>
                <th scope="col">Status</th>
                <th scope="col">Reason</th>
                <th scope="col">Since</th>
              </tr>
            </thead>
            <tbody>
              {t.status.conditions.map((c) => (
                <tr key={c.type} title={c.message}>
                  <td>{c.type}</td>
                  <td>{c.status}</td>
                  <td>{c.reason}</td>
                  <td>
                    <Time at={c.lastTransitionTime} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </Section>
      </div>
      <Section title="Spec">
        <pre class="code" tabIndex={0} aria-label="Spec as YAML, secret values masked">
          {specToYaml(t.spec)}
        </pre>
      </Section>
      <Section title="Executions">
        <ErrorBox error={executions.error} />
        {executions.data && executions.data.items.length === 0 && <p class="muted">No execution yet.</p>}
        {executions.data && executions.data.items.length > 0 && (
          <table>
            <thead>
              <tr>
                <th scope="col">Operation</th>
                <th scope="col">Status</th>
                <th scope="col">Gen.</th>
                <th scope="col">Attempt</th>
                <th scope="col">Started</th>
                <th scope="col">Took</th>
                <th scope="col">Error</th>
              </tr>
            </thead>
            <tbody>
              {executions.data.items.map((x) => (
                <tr key={x.executionId}>
                  <td>
                    <a href={href('/executions/:id', { id: x.executionId })}>{x.operation}</a>
                  </td>
                  <td>{x.status}</td>
                  <td class="num">{x.generation}</td>
                  <td class="num">{x.attempt}</td>
                  <td>
                    <Time at={x.startedAt ?? x.createdAt} />
                  </td>
                  <td>{elapsed(x.startedAt, x.finishedAt, Date.now())}</td>
                  <td class="wrap">{x.error?.message ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>
      <Section title="Timeline">
        <ErrorBox error={history.error} />
        {history.data && <Timeline events={history.data} />}
      </Section>
      <TenantRevisions tenant={t} onDone={() => tenant.reload()} />
      {canWrite && t.status.phase !== 'archived' && <TenantLogs tenantId={t.id} />}
    </>
  );
}

function Timeline({ events }: { events: readonly TenantEvent[] }) {
  const shown = events.slice(-TIMELINE_SHOWN).reverse();
  return (
    <ol class="feed" aria-label="Events, newest first" data-testid="timeline" tabIndex={0}>
      {shown.map((e) => (
        <li key={e.seq}>
          <Time at={e.at} /> <span class="muted">{e.actor}</span> {eventLine(e)}
        </li>
      ))}
    </ol>
  );
}

function Actions({ tenant, onDone }: { tenant: Tenant; onDone: () => void }) {
  const canWrite = useCan('write');
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const dialog = useRef<HTMLDialogElement>(null);
  const suspendDialog = useRef<HTMLDialogElement>(null);
  if (!canWrite) return null;
  const phase = tenant.status.phase;
  const ifMatch = { ifMatch: tenant.version };
  const run = async (call: () => Promise<unknown>) => {
    setBusy(true);
    setError(undefined);
    try {
      await call();
      onDone();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const act = (call: () => Promise<unknown>) => () => void run(call);
  if (phase === 'archived' || phase === 'deleting') return null;
  return (
    <div class="actions" role="group" aria-label="Actions">
      <a class="button" href={href('/tenants/:name/edit', { name: tenant.name })}>
        Edit
      </a>
      <button
        type="button"
        disabled={busy}
        onClick={act(() => api().patchTenant(tenant.id, { spec: { paused: !tenant.spec.paused } }, ifMatch))}
      >
        {tenant.spec.paused ? 'Resume reconciling' : 'Pause reconciling'}
      </button>
      <button type="button" disabled={busy} onClick={() => suspendDialog.current?.showModal()}>
        {tenant.spec.suspended ? 'Resume…' : 'Suspend…'}
      </button>
      <ConfirmDialog
        dialogRef={suspendDialog}
        id="suspend-dialog"
        title={tenant.spec.suspended ? `Resume ${tenant.name}?` : `Suspend ${tenant.name}?`}
        confirm={tenant.spec.suspended ? 'Resume' : 'Suspend'}
        danger={!tenant.spec.suspended}
        onConfirm={() =>
          void run(() =>
            api().patchTenant(tenant.id, { spec: { suspended: !tenant.spec.suspended } }, ifMatch),
          )
        }
      >
        <p>
          {tenant.spec.suspended
            ? 'Its runtime starts again as it was, with its data.'
            : 'Its runtime stops; its resources and data are kept until it is resumed.'}{' '}
          This makes generation {tenant.generation + 1}.
        </p>
      </ConfirmDialog>
      {phase === 'failed' && (
        <button type="button" disabled={busy} onClick={act(() => api().retryTenant(tenant.id, ifMatch))}>
          Retry
        </button>
      )}
      <button type="button" class="danger" disabled={busy} onClick={() => dialog.current?.showModal()}>
        Delete…
      </button>
      <DeleteDialog
        dialogRef={dialog}
        tenant={tenant}
        onDelete={() => run(() => api().deleteTenant(tenant.id, ifMatch))}
      />
      <ErrorBox error={error} />
    </div>
  );
}

function DeleteDialog({
  tenant,
  onDelete,
  dialogRef,
}: {
  tenant: Tenant;
  onDelete: () => Promise<void>;
  dialogRef: Ref<HTMLDialogElement>;
}) {
  const [typed, setTyped] = useState('');
  return (
    <dialog ref={dialogRef} aria-labelledby="delete-title" onClose={() => setTyped('')}>
      <form
        method="dialog"
        onSubmit={(e) => {
          if (typed !== tenant.name) e.preventDefault();
          else void onDelete();
        }}
      >
        <h2 id="delete-title">Delete {tenant.name}?</h2>
        <p>Its runtime is removed and the tenant is archived. Type the tenant's name to confirm.</p>
        <label for="delete-name">Tenant name</label>
        <input
          id="delete-name"
          value={typed}
          onInput={(e) => setTyped(e.currentTarget.value)}
          autoComplete="off"
        />
        <div class="actions">
          <button type="submit" class="danger" disabled={typed !== tenant.name}>
            Delete
          </button>
          <button
            type="button"
            onClick={(e) => (e.currentTarget.closest('dialog') as HTMLDialogElement).close()}
          >
            Cancel
          </button>
        </div>
      </form>
    </dialog>
  );
}
