/**
 * One rollout: its phase, counts and every wave's progress, moving live — each `rollout.*` event of
 * this rollout on the shared event stream (its phase changes, and each member's change) re-reads
 * the rollout, so the page follows the server without polling; the members table follows too.
 * Operators get the controls the phase allows (pause, resume, promote, abort, rollback; the two
 * that cannot be undone ask first); the server refuses a command the phase no longer allows (409).
 */
import { useRef, useState } from 'preact/hooks';
import type { Rollout, RolloutCommand, RolloutMemberState } from '../../../src/api/types.js';
import { MEMBER_STATES } from '../../../src/domain/rollout.js';
import { ErrorBox, KeyValues, Loading, PageTitle, Section, Time } from '../components/common.js';
import { ConfirmDialog } from '../components/confirm-dialog.js';
import { api } from '../lib/api.js';
import { useCan, useLiveEvents, useStreamState } from '../lib/app-context.js';
import { duration, toJson } from '../lib/format.js';
import type { ViewProps } from '../lib/route-def.js';
import { href } from '../lib/router.js';
import { rolloutCommands, waveSegments, waveSummary } from '../lib/rollout.js';
import { useAsync } from '../lib/use-async.js';
import { useDebounced } from '../lib/use-debounced.js';
import { rolloutIdOf } from '../live/reducer.js';
import { RolloutPhaseBadge } from './rollouts.js';

const LABELS: Readonly<Record<RolloutCommand, string>> = {
  pause: 'Pause',
  resume: 'Resume',
  promote: 'Promote',
  abort: 'Abort…',
  rollback: 'Roll back…',
};

export function RolloutView({ params, query }: ViewProps) {
  const id = params.id!;
  const state = (query.get('state') ?? '') as RolloutMemberState | '';
  const { reconnects } = useStreamState();
  const rollout = useAsync(() => api().getRollout(id), [id, reconnects]);
  const members = useAsync(
    () => api().rolloutTenants(id, { limit: 100, ...(state && { state }) }),
    [id, state, reconnects],
  );
  const refresh = useDebounced(() => {
    rollout.reload();
    members.reload();
  }, 150);
  useLiveEvents((event) => {
    if (rolloutIdOf(event) === id) refresh();
  });

  if (!rollout.data) {
    return (
      <>
        <PageTitle title="Rollout">Rollout {id.slice(0, 8)}</PageTitle>
        {rollout.error ? <ErrorBox error={rollout.error} /> : <Loading what="Loading rollout" />}
      </>
    );
  }
  const r = rollout.data;
  return (
    <>
      <div class="title-row">
        <PageTitle title={`Rollout ${r.description || r.id.slice(0, 8)}`}>
          Rollout {r.description || r.id.slice(0, 8)} <RolloutPhaseBadge phase={r.status.phase} />
        </PageTitle>
        <Controls rollout={r} onDone={(next) => rollout.setData(() => next)} />
      </div>
      <ErrorBox error={rollout.error} />
      <div class="columns">
        <Section title="Status">
          <KeyValues
            rows={[
              ['Phase', <span data-testid="rollout-phase">{r.status.phase}</span>],
              ['Halt reason', r.status.haltReason ?? '—'],
              [
                'Wave',
                `${Math.min(r.status.currentWave + 1, r.status.waves.length)} of ${r.status.waves.length}`,
              ],
              [
                'Members',
                <span data-testid="rollout-counts">
                  {r.status.counts.succeeded}/{r.status.counts.total} succeeded
                  {r.status.counts.failed > 0 && `, ${r.status.counts.failed} failed`}
                  {r.status.counts.inProgress > 0 && `, ${r.status.counts.inProgress} in progress`}
                  {r.status.counts.rolledBack > 0 && `, ${r.status.counts.rolledBack} rolled back`}
                </span>,
              ],
              ['Created by', r.createdBy],
              ['Created', <Time at={r.createdAt} />],
              ['Updated', <Time at={r.updatedAt} />],
              ['Id', <span class="mono">{r.id}</span>],
            ]}
          />
        </Section>
        <Section title="Change">
          <KeyValues
            rows={[
              ['Labels', r.selector.labels ?? '—'],
              ['Names', r.selector.names?.join(', ') ?? '—'],
              ['Waves', r.strategy.waves.join(', ')],
              ['Max parallel', r.strategy.maxParallel],
              ['Min healthy', duration(r.strategy.minHealthyMs)],
              ['Pause after waves', r.strategy.pauseAfterWaves.join(', ') || '—'],
              [
                'Halt when',
                r.failurePolicy.maxFailedPercent === null
                  ? 'never (no failure limit)'
                  : `over ${r.failurePolicy.maxFailedPercent}% of a wave failed, then ${r.failurePolicy.onHalt}`,
              ],
            ]}
          />
          {'patch' in r.change ? (
            <>
              <h3>Patch</h3>
              <pre
                class="code small"
                tabIndex={0}
                aria-label="The change, a merge patch of each member's spec"
              >
                {toJson(r.change.patch)}
              </pre>
            </>
          ) : (
            <>
              <h3>Plan revision</h3>
              <p>Each member moves to revision {r.change.planRevision} of its plan, keeping its overrides.</p>
            </>
          )}
        </Section>
      </div>
      <Section title="Waves">
        <ol class="waves" aria-label="Progress of each wave" data-testid="waves">
          {r.status.waves.map((w) => (
            <li
              key={w.index}
              class="wave"
              data-wave={w.index}
              data-succeeded={w.succeeded}
              data-size={w.size}
            >
              <strong>Wave {w.index + 1}</strong>
              <span class="bar" aria-hidden="true">
                {waveSegments(w).map((s) => (
                  <span key={s.tone} class={s.tone} style={{ width: `${s.percent}%` }} title={s.label} />
                ))}
              </span>
              <span>{waveSummary(w)}</span>
            </li>
          ))}
        </ol>
      </Section>
      <Section title="Members">
        <nav class="pager" aria-label="Filter members by state">
          <a href={href('/rollouts/:id', { id })} aria-current={state === '' ? 'true' : undefined}>
            all
          </a>
          {MEMBER_STATES.map((s) => (
            <a
              key={s}
              href={href('/rollouts/:id', { id }, { state: s })}
              aria-current={state === s ? 'true' : undefined}
            >
              {s}
            </a>
          ))}
        </nav>
        <ErrorBox error={members.error} />
        {members.data && members.data.items.length === 0 && (
          <p class="muted">No member{state && ` is ${state}`}.</p>
        )}
        {members.data && members.data.items.length > 0 && (
          <table data-testid="members">
            <caption class="sr-only">Members of the rollout</caption>
            <thead>
              <tr>
                <th scope="col">Tenant</th>
                <th scope="col">Wave</th>
                <th scope="col">State</th>
                <th scope="col">Generation</th>
                <th scope="col">Finished</th>
                <th scope="col">Error</th>
              </tr>
            </thead>
            <tbody>
              {members.data.items.map((m) => (
                <tr key={m.tenantId} data-member={m.tenant}>
                  <td>
                    <a href={href('/tenants/:name', { name: m.tenantId })}>{m.tenant}</a>
                  </td>
                  <td class="num">{m.wave + 1}</td>
                  <td>{m.state}</td>
                  <td class="num">
                    {m.fromGeneration ?? '—'} → {m.rollbackGeneration ?? m.toGeneration ?? '—'}
                  </td>
                  <td>
                    <Time at={m.finishedAt} />
                  </td>
                  <td class="wrap">{m.error ? `${m.error.code}: ${m.error.message}` : ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {members.data?.nextCursor && <p class="muted">Showing the first 100 members.</p>}
      </Section>
    </>
  );
}

function Controls({ rollout, onDone }: { rollout: Rollout; onDone: (next: Rollout) => void }) {
  const canWrite = useCan('write');
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const abortDialog = useRef<HTMLDialogElement>(null);
  const rollbackDialog = useRef<HTMLDialogElement>(null);
  const commands = rolloutCommands(rollout.status.phase);
  if (!canWrite || commands.length === 0) return null;
  const send = async (command: RolloutCommand) => {
    setBusy(true);
    setError(undefined);
    try {
      onDone(await api().commandRollout(rollout.id, command));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="actions" role="group" aria-label="Rollout controls">
      {commands.map((command) => (
        <button
          key={command}
          type="button"
          disabled={busy}
          class={command === 'abort' || command === 'rollback' ? 'danger' : undefined}
          onClick={() =>
            command === 'abort'
              ? abortDialog.current?.showModal()
              : command === 'rollback'
                ? rollbackDialog.current?.showModal()
                : void send(command)
          }
        >
          {LABELS[command]}
        </button>
      ))}
      <ConfirmDialog
        dialogRef={abortDialog}
        id="abort-dialog"
        title="Abort the rollout?"
        confirm="Abort"
        danger
        onConfirm={() => void send('abort')}
      >
        <p>No further tenant is changed; tenants already changed keep their change.</p>
      </ConfirmDialog>
      <ConfirmDialog
        dialogRef={rollbackDialog}
        id="rollback-dialog"
        title="Roll the rollout back?"
        confirm="Roll back"
        danger
        onConfirm={() => void send('rollback')}
      >
        <p>Every tenant it changed gets its spec from before the rollout back, as a new generation.</p>
      </ConfirmDialog>
      <ErrorBox error={error} />
    </div>
  );
}
