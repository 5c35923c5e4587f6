/**
 * Overview: tenants per phase (counted by the server, moved live by events), the failing tenants,
 * the active rollouts (re-read on each `rollout.*` event) and the live event feed. Counts and
 * lists are re-read whenever the stream reconnects.
 */
import { useState } from 'preact/hooks';
import type { TenantEvent } from '../../../src/api/types.js';
import { ErrorBox, Loading, PageTitle, PhaseBadge, Section, Time } from '../components/common.js';
import { api } from '../lib/api.js';
import { useLiveEvents, useStreamState } from '../lib/app-context.js';
import { count, eventLine, PHASE_ORDER } from '../lib/format.js';
import type { RouteDef } from '../lib/route-def.js';
import { href } from '../lib/router.js';
import { useAsync } from '../lib/use-async.js';
import { useDebounced } from '../lib/use-debounced.js';
import { applyToRows, applyToSummary, prependEvent, rolloutIdOf } from '../live/reducer.js';
import type { RolloutList } from '../../../src/api/types.js';
import { mergeActiveRollouts } from '../lib/rollout.js';
import { RolloutPhaseBadge } from './rollouts.js';

const FEED_SIZE = 50;

function Overview() {
  const { reconnects } = useStreamState();
  const summary = useAsync(() => api().tenantSummary(), [reconnects]);
  const failing = useAsync(() => api().listTenants({ phase: 'failed', limit: 10 }), [reconnects], {
    replayUpdates: true,
  });
  const [feed, setFeed] = useState<readonly TenantEvent[]>([]);
  const rollouts = useAsync(() => activeRollouts(), [reconnects]);
  const refreshRollouts = useDebounced(() => rollouts.reload(), 300);
  useLiveEvents((event) => {
    if (rolloutIdOf(event) !== undefined) refreshRollouts();
    summary.setData((s) => applyToSummary(s, event));
    failing.setData((page) => ({ ...page, items: applyToRows(page.items, event) }));
    setFeed((current) => prependEvent(current, event, FEED_SIZE));
  });
  return (
    <>
      <PageTitle title="Overview">Overview</PageTitle>
      <Section title="Tenants by phase">
        <ErrorBox error={summary.error} />
        {summary.data ? (
          <ul class="cards" aria-label="Tenants by phase">
            <li class="card total">
              <a href={href('/tenants')}>
                <span class="num" data-testid="count-total">
                  {count(summary.data.total)}
                </span>
                <span>tenants</span>
              </a>
            </li>
            {PHASE_ORDER.map((phase) => (
              <li class="card" key={phase}>
                <a href={href('/tenants', {}, { phase })}>
                  <span class="num" data-testid={`count-${phase}`}>
                    {count(summary.data!.phases[phase])}
                  </span>
                  <PhaseBadge phase={phase} />
                </a>
              </li>
            ))}
          </ul>
        ) : (
          !summary.error && <Loading />
        )}
      </Section>
      <div class="columns">
        <Section title="Failing tenants">
          <ErrorBox error={failing.error} />
          {failing.data &&
            (failing.data.items.length === 0 ? (
              <p class="muted">No tenant is failing.</p>
            ) : (
              <table>
                <caption class="sr-only">Failing tenants</caption>
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Phase</th>
                    <th scope="col">Error</th>
                  </tr>
                </thead>
                <tbody>
                  {failing.data.items.map((t) => (
                    <tr key={t.id}>
                      <td>
                        <a href={href('/tenants/:name', { name: t.name })}>{t.name}</a>
                      </td>
                      <td>
                        <PhaseBadge phase={t.status.phase} />
                      </td>
                      <td class="wrap">{t.status.lastError?.message ?? t.status.message}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            ))}
          {failing.data?.nextCursor && (
            <a href={href('/tenants', {}, { phase: 'failed' })}>All failing tenants</a>
          )}
        </Section>
        <Section title="Active rollouts">
          <ErrorBox error={rollouts.error} />
          {rollouts.data &&
            (rollouts.data.length === 0 ? (
              <p class="muted">No rollout is running, paused or halted.</p>
            ) : (
              <ul data-testid="active-rollouts">
                {rollouts.data.map((r) => (
                  <li key={r.id}>
                    <a href={href('/rollouts/:id', { id: r.id })}>{r.description || r.id.slice(0, 8)}</a>{' '}
                    <RolloutPhaseBadge phase={r.status.phase} /> {r.status.counts.succeeded}/
                    {r.status.counts.total} succeeded
                  </li>
                ))}
              </ul>
            ))}
        </Section>
        <Section title="Live events">
          {feed.length === 0 ? (
            <p class="muted">Events appear here as they happen.</p>
          ) : (
            <ol class="feed" aria-label="Latest events, newest first" tabIndex={0}>
              {feed.map((e) => (
                <li key={e.seq}>
                  <Time at={e.at} /> {e.tenantId !== null && <TenantLink id={e.tenantId} />} {eventLine(e)}
                </li>
              ))}
            </ol>
          )}
        </Section>
      </div>
    </>
  );
}

/** Rollouts still in play: running, paused, halted or rolling back (the first page of each). */
async function activeRollouts(): Promise<RolloutList['items']> {
  const pages = await Promise.all(
    (['running', 'paused', 'halted', 'rollingBack'] as const).map((phase) =>
      api().listRollouts({ phase, limit: 10 }),
    ),
  );
  return mergeActiveRollouts(pages.map((p) => p.items));
}

/** Events carry tenant ids; the tenant view takes an id as well as a name. */
function TenantLink({ id }: { id: string }) {
  return (
    <a href={href('/tenants/:name', { name: id })} class="mono">
      {id.slice(0, 8)}
    </a>
  );
}

export const overviewRoutes: RouteDef[] = [
  { path: '/', title: 'Overview', nav: true, view: () => <Overview /> },
];
