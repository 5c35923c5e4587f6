/**
 * Webhooks (admin): the subscriptions, and a form to add one. The signing secret is in the create
 * answer only: it is shown once, here, and never again (the list and the webhook page do not have
 * it). The webhook page (deliveries, attempts, retry) loads on first use.
 */
import { useState } from 'preact/hooks';
import type { CreateWebhookInput, WebhookWithSecret } from '../../../src/api/types-webhooks.js';
import { ErrorBox, Loading, PageTitle, Section, Time } from '../components/common.js';
import { api } from '../lib/api.js';
import { lazyView } from '../lib/lazy-view.js';
import type { RouteDef, ViewProps } from '../lib/route-def.js';
import { href } from '../lib/router.js';
import { useAsync } from '../lib/use-async.js';

type EventFilter = CreateWebhookInput['events'][number];
/** The wildcard filters offered as boxes; single types can be typed (the server checks each). */
const GROUPS: readonly EventFilter[] = ['tenant.*', 'execution.*', 'rollout.*', '*'];

function Webhooks({ query }: ViewProps) {
  const cursor = query.get('cursor') ?? undefined;
  const page = useAsync(() => api().listWebhooks({ limit: 50, ...(cursor && { cursor }) }), [cursor]);
  const [created, setCreated] = useState<WebhookWithSecret | undefined>(undefined);
  return (
    <>
      <PageTitle title="Webhooks">Webhooks</PageTitle>
      <p class="muted">Endpoints that receive signed events (Standard Webhooks) as they happen.</p>
      {created && <CreatedSecret webhook={created} onDismiss={() => setCreated(undefined)} />}
      <ErrorBox error={page.error} />
      {!page.data ? (
        !page.error && <Loading what="Loading webhooks" />
      ) : page.data.items.length === 0 ? (
        <p class="muted">No webhook yet.</p>
      ) : (
        <table data-testid="webhook-table">
          <caption class="sr-only">Webhooks, oldest first</caption>
          <thead>
            <tr>
              <th scope="col">URL</th>
              <th scope="col">Events</th>
              <th scope="col">State</th>
              <th scope="col">Description</th>
              <th scope="col">Created</th>
            </tr>
          </thead>
          <tbody>
            {page.data.items.map((w) => (
              <tr key={w.id} data-webhook={w.id}>
                <td class="wrap">
                  <a href={href('/webhooks/:id', { id: w.id })}>{w.url}</a>
                </td>
                <td class="mono">{w.events.join(', ')}</td>
                <td>
                  {w.enabled ? 'enabled' : `disabled${w.disabledReason ? `: ${w.disabledReason}` : ''}`}
                </td>
                <td class="wrap">{w.description}</td>
                <td>
                  <Time at={w.createdAt} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <nav class="pager" aria-label="Pages">
        {cursor && <a href={href('/webhooks')}>First page</a>}
        {page.data?.nextCursor && (
          <a href={href('/webhooks', {}, { cursor: page.data.nextCursor })}>Next page</a>
        )}
      </nav>
      <CreateWebhook
        onCreated={(webhook) => {
          setCreated(webhook);
          page.reload();
        }}
      />
    </>
  );
}

/** The secret of a webhook just made: shown this once, to copy now. */
export function CreatedSecret({ webhook, onDismiss }: { webhook: WebhookWithSecret; onDismiss: () => void }) {
  return (
    <div class="preview" role="status" data-testid="webhook-secret">
      <h2>Signing secret of {webhook.url}</h2>
      <p>Store it now: it is shown this once. Receivers verify each delivery's signature with it.</p>
      <p class="secret">
        <code aria-label="Signing secret">{webhook.secret}</code>
        <button
          type="button"
          class="secondary"
          onClick={() => void navigator.clipboard?.writeText(webhook.secret)}
        >
          Copy
        </button>
        <button type="button" onClick={onDismiss}>
          I have stored it
        </button>
      </p>
    </div>
  );
}

function CreateWebhook({ onCreated }: { onCreated: (webhook: WebhookWithSecret) => void }) {
  const [url, setUrl] = useState('');
  const [groups, setGroups] = useState<readonly EventFilter[]>(['tenant.*']);
  const [types, setTypes] = useState('');
  const [description, setDescription] = useState('');
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const submit = async () => {
    setBusy(true);
    setError(undefined);
    try {
      const typed = types
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '') as EventFilter[];
      const webhook = await api().createWebhook({
        url: url.trim(),
        events: [...new Set([...groups, ...typed])],
        description,
      });
      setUrl('');
      setTypes('');
      setDescription('');
      onCreated(webhook);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Section title="New webhook">
      <form
        class="stack"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <label for="w-url">Endpoint URL</label>
        <input
          id="w-url"
          type="url"
          value={url}
          onInput={(e) => setUrl(e.currentTarget.value)}
          required
          placeholder="https://hooks.example.com/lessor"
          autoComplete="off"
        />
        <fieldset>
          <legend>Events</legend>
          <div class="checks">
            {GROUPS.map((g) => (
              <label key={g}>
                <input
                  type="checkbox"
                  checked={groups.includes(g)}
                  onChange={(e) =>
                    setGroups((current) =>
                      e.currentTarget.checked ? [...current, g] : current.filter((x) => x !== g),
                    )
                  }
                />{' '}
                {g === '*' ? 'everything (*)' : g}
              </label>
            ))}
          </div>
          <label for="w-types">Single event types (comma-separated)</label>
          <input
            id="w-types"
            value={types}
            onInput={(e) => setTypes(e.currentTarget.value)}
            placeholder="tenant.ready, execution.failed"
            autoComplete="off"
          />
        </fieldset>
        <label for="w-description">Description</label>
        <input
          id="w-description"
          value={description}
          onInput={(e) => setDescription(e.currentTarget.value)}
        />
        <div class="actions">
          <button type="submit" disabled={busy}>
            Create webhook
          </button>
        </div>
        <ErrorBox error={error} />
      </form>
    </Section>
  );
}

export const webhookRoutes: RouteDef[] = [
  { path: '/webhooks', title: 'Webhooks', nav: true, grant: 'admin', view: (p) => <Webhooks {...p} /> },
  {
    path: '/webhooks/:id',
    title: 'Webhook',
    grant: 'admin',
    view: lazyView(() => import('./webhook.js').then((m) => m.WebhookView)),
  },
];
