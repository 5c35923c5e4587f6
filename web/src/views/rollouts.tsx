/**
 * Rollouts: the list (filter by phase, cursor paging), kept current by the rollout events of the
 * live stream (`rollout.*`: each re-reads the page, no polling); create and the rollout page are
 * routed from here and load on first use.
 */
import type { RolloutPhase } from '../../../src/api/types.js';
import { ROLLOUT_PHASES } from '../../../src/domain/rollout.js';
import { ErrorBox, Loading, PageTitle, Time } from '../components/common.js';
import { api } from '../lib/api.js';
import { useCan, useLiveEvents, useStreamState } from '../lib/app-context.js';
import { lazyView } from '../lib/lazy-view.js';
import type { RouteDef, ViewProps } from '../lib/route-def.js';
import { href } from '../lib/router.js';
import { useAsync } from '../lib/use-async.js';
import { useDebounced } from '../lib/use-debounced.js';
import { rolloutIdOf } from '../live/reducer.js';

export function RolloutPhaseBadge({ phase }: { phase: RolloutPhase }) {
  const tone =
    phase === 'succeeded'
      ? 'ok'
      : phase === 'halted' || phase === 'rolledBack' || phase === 'rollingBack'
        ? 'bad'
        : phase === 'aborted'
          ? 'off'
          : 'busy';
  return <span class={`badge tone-${tone}`}>{phase}</span>;
}

function Rollouts({ query }: ViewProps) {
  const cursor = query.get('cursor') ?? undefined;
  const phase = (query.get('phase') ?? '') as RolloutPhase | '';
  const canWrite = useCan('write');
  const { reconnects } = useStreamState();
  const page = useAsync(
    () => api().listRollouts({ limit: 50, ...(cursor && { cursor }), ...(phase && { phase }) }),
    [cursor, phase, reconnects],
  );
  const refresh = useDebounced(() => page.reload(), 200);
  useLiveEvents((event) => {
    if (rolloutIdOf(event) !== undefined) refresh();
  });
  return (
    <>
      <div class="title-row">
        <PageTitle title="Rollouts">Rollouts</PageTitle>
        {canWrite && (
          <a class="button" href={href('/new/rollout')}>
            New rollout
          </a>
        )}
      </div>
      <form
        class="filters"
        role="search"
        aria-label="Filter rollouts"
        onSubmit={(e) => {
          e.preventDefault();
          const value = (e.currentTarget.elements.namedItem('phase') as HTMLSelectElement).value;
          location.hash = href('/rollouts', {}, { phase: value });
        }}
      >
        <div>
          <label for="r-phase">Phase</label>
          <select id="r-phase" name="phase" value={phase}>
            <option value="">any</option>
            {ROLLOUT_PHASES.map((p) => (
              <option key={p} value={p}>
                {p}
              </option>
            ))}
          </select>
        </div>
        <div class="filter-actions">
          <button type="submit">Apply filter</button>
        </div>
      </form>
      <ErrorBox error={page.error} />
      {!page.data ? (
        !page.error && <Loading what="Loading rollouts" />
      ) : page.data.items.length === 0 ? (
        <p class="muted">No rollout{phase ? ` is ${phase}` : ' yet'}.</p>
      ) : (
        <table data-testid="rollout-table">
          <caption class="sr-only">Rollouts, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Rollout</th>
              <th scope="col">Phase</th>
              <th scope="col">Progress</th>
              <th scope="col">Wave</th>
              <th scope="col">By</th>
              <th scope="col">Created</th>
            </tr>
          </thead>
          <tbody>
            {page.data.items.map((r) => (
              <tr key={r.id} data-rollout={r.id}>
                <td>
                  <a href={href('/rollouts/:id', { id: r.id })}>{r.description || r.id.slice(0, 8)}</a>
                </td>
                <td>
                  <RolloutPhaseBadge phase={r.status.phase} />
                </td>
                <td class="num">
                  {r.status.counts.succeeded}/{r.status.counts.total}
                  {r.status.counts.failed > 0 && ` (${r.status.counts.failed} failed)`}
                </td>
                <td class="num">
                  {Math.min(r.status.currentWave + 1, r.status.waves.length)}/{r.status.waves.length}
                </td>
                <td>{r.createdBy}</td>
                <td>
                  <Time at={r.createdAt} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <nav class="pager" aria-label="Pages">
        {cursor && <a href={href('/rollouts', {}, { phase })}>First page</a>}
        {page.data?.nextCursor && (
          <a href={href('/rollouts', {}, { phase, cursor: page.data.nextCursor })}>Next page</a>
        )}
      </nav>
    </>
  );
}

export const rolloutRoutes: RouteDef[] = [
  { path: '/rollouts', title: 'Rollouts', nav: true, view: (p) => <Rollouts {...p} /> },
  {
    path: '/new/rollout',
    title: 'New rollout',
    grant: 'write',
    view: lazyView(() => import('./rollout-create.js').then((m) => m.CreateRollout)),
  },
  {
    path: '/rollouts/:id',
    title: 'Rollout',
    view: lazyView(() => import('./rollout.js').then((m) => m.RolloutView)),
  },
];
