/**
 * One webhook (admin): its subscription, a signed test ping, and its deliveries (filter by status,
 * cursor paging), each with every attempt — when, how long, the answer or the error. A delivered,
 * failed or dead delivery can be sent again by hand (Retry: same `webhook-id`, a new retry window).
 */
import { Fragment } from 'preact';
import { useState } from 'preact/hooks';
import type { WebhookDeliveryResource } from '../../../src/api/types-webhooks.js';
import { ErrorBox, KeyValues, Loading, PageTitle, Section, Time } from '../components/common.js';
import { api } from '../lib/api.js';
import { duration } from '../lib/format.js';
import type { ViewProps } from '../lib/route-def.js';
import { href } from '../lib/router.js';
import { useAsync } from '../lib/use-async.js';

const STATUSES = [
  'pending',
  'delivered',
  'failed',
  'dead',
] as const satisfies readonly WebhookDeliveryResource['status'][];

export function WebhookView({ params, query }: ViewProps) {
  const id = params.id!;
  const status = (query.get('status') ?? '') as WebhookDeliveryResource['status'] | '';
  const cursor = query.get('cursor') ?? undefined;
  const webhook = useAsync(() => api().getWebhook(id), [id]);
  const deliveries = useAsync(
    () =>
      api().listWebhookDeliveries(id, { limit: 50, ...(status && { status }), ...(cursor && { cursor }) }),
    [id, status, cursor],
  );
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const act = async (call: () => Promise<unknown>) => {
    setBusy(true);
    setError(undefined);
    try {
      await call();
      deliveries.reload();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  if (!webhook.data) {
    return (
      <>
        <PageTitle title="Webhook">Webhook</PageTitle>
        {webhook.error ? <ErrorBox error={webhook.error} /> : <Loading what="Loading webhook" />}
      </>
    );
  }
  const w = webhook.data;
  return (
    <>
      <div class="title-row">
        <PageTitle title="Webhook">Webhook {w.url}</PageTitle>
        <div class="actions" role="group" aria-label="Actions">
          <button type="button" disabled={busy} onClick={() => void act(() => api().testWebhook(id))}>
            Send test ping
          </button>
          <button type="button" class="secondary" disabled={busy} onClick={() => deliveries.reload()}>
            Refresh deliveries
          </button>
        </div>
      </div>
      <ErrorBox error={error} />
      <Section title="Subscription">
        <KeyValues
          rows={[
            ['URL', <span class="wrap">{w.url}</span>],
            ['Events', <span class="mono">{w.events.join(', ')}</span>],
            ['State', w.enabled ? 'enabled' : `disabled${w.disabledReason ? `: ${w.disabledReason}` : ''}`],
            ['Description', w.description || '—'],
            ['Secret', 'shown only when created or rotated'],
            ['Created', <Time at={w.createdAt} />],
            ['Id', <span class="mono">{w.id}</span>],
          ]}
        />
      </Section>
      <Section title="Deliveries">
        <nav class="pager" aria-label="Filter deliveries by status">
          <a href={href('/webhooks/:id', { id })} aria-current={status === '' ? 'true' : undefined}>
            all
          </a>
          {STATUSES.map((s) => (
            <a
              key={s}
              href={href('/webhooks/:id', { id }, { status: s })}
              aria-current={status === s ? 'true' : undefined}
            >
              {s}
            </a>
          ))}
        </nav>
        <ErrorBox error={deliveries.error} />
        {deliveries.data && deliveries.data.items.length === 0 && (
          <p class="muted">No delivery{status && ` is ${status}`}.</p>
        )}
        {deliveries.data && deliveries.data.items.length > 0 && (
          <table data-testid="deliveries">
            <caption class="sr-only">Deliveries, newest first, each followed by its attempts</caption>
            <thead>
              <tr>
                <th scope="col">Event</th>
                <th scope="col">Status</th>
                <th scope="col">Attempts</th>
                <th scope="col">Last answer</th>
                <th scope="col">Created</th>
                <th scope="col">Action</th>
              </tr>
            </thead>
            <tbody>
              {deliveries.data.items.map((d) => (
                <Fragment key={d.id}>
                  <tr data-delivery={d.id} data-status={d.status}>
                    <td>
                      {d.eventType} <span class="muted mono">{d.id.slice(0, 12)}</span>
                    </td>
                    <td>{d.status}</td>
                    <td class="num">{d.attempts}</td>
                    <td class="wrap">{d.lastStatusCode ?? d.lastError ?? '—'}</td>
                    <td>
                      <Time at={d.createdAt} />
                    </td>
                    <td>
                      {d.status !== 'pending' && (
                        <button
                          type="button"
                          class="secondary"
                          disabled={busy}
                          aria-label={`Retry delivery ${d.id}`}
                          onClick={() => void act(() => api().retryWebhookDelivery(id, d.id))}
                        >
                          Retry
                        </button>
                      )}
                    </td>
                  </tr>
                  {d.attemptLog.length > 0 && (
                    <tr class="attempts">
                      <td colSpan={6}>
                        <ol aria-label={`Attempts of delivery ${d.id}`}>
                          {d.attemptLog.map((a) => (
                            <li key={a.attempt}>
                              #{a.attempt} <Time at={a.startedAt} />, {duration(a.durationMs)}:{' '}
                              {a.statusCode !== null ? `HTTP ${a.statusCode}` : 'no answer'}
                              {a.error && ` — ${a.error}`}
                            </li>
                          ))}
                        </ol>
                      </td>
                    </tr>
                  )}
                </Fragment>
              ))}
            </tbody>
          </table>
        )}
        <nav class="pager" aria-label="Pages">
          {cursor && <a href={href('/webhooks/:id', { id }, { status })}>First page</a>}
          {deliveries.data?.nextCursor && (
            <a href={href('/webhooks/:id', { id }, { status, cursor: deliveries.data.nextCursor })}>
              Next page
            </a>
          )}
        </nav>
      </Section>
    </>
  );
}
