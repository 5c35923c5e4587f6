/**
 * Create a tenant: name, provider, its config as YAML, labels. Sent once with an Idempotency-Key
 * made when the form opened, so a double submit cannot create twice; then the tenant's page, where
 * its phase moves live.
 */
import { useMemo, useState } from 'preact/hooks';
import { ErrorBox, PageTitle } from '../components/common.js';
import { api } from '../lib/api.js';
import { parseLabels } from '../lib/format.js';
import type { ViewProps } from '../lib/route-def.js';
import { href } from '../lib/router.js';
import { yamlToObject } from '../lib/spec-yaml.js';
import { useAsync } from '../lib/use-async.js';

const TEMPLATES: Readonly<Record<string, string>> = {
  docker: 'image: nginx:alpine\nports:\n  - containerPort: 80\n',
  fake: 'image: nginx:alpine\n',
  ecs: 'image: nginx:alpine\n',
  process:
    'command: ["node", "-e", "require(\'http\').createServer((q,s)=>s.end(\'hi\')).listen(process.env.PORT)"]\n',
};

/** 128 random bits as hex (`crypto.randomUUID` needs a secure context; this does not). */
function randomKey(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join(
    '',
  );
}

export function CreateTenant(_props: ViewProps) {
  const providers = useAsync(() => api().listProviders(), []);
  const idempotencyKey = useMemo(randomKey, []);
  const [name, setName] = useState('');
  const [provider, setProvider] = useState<string | undefined>(undefined);
  const [config, setConfig] = useState<string | undefined>(undefined);
  const [labels, setLabels] = useState('');
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const chosen = provider ?? providers.data?.defaultProvider ?? providers.data?.items[0]?.type ?? '';
  const configText = config ?? TEMPLATES[chosen] ?? '';

  const submit = async () => {
    setBusy(true);
    setError(undefined);
    try {
      const spec = { provider: chosen, config: yamlToObject(configText), labels: parseLabels(labels) };
      const tenant = await api().createTenant({ name: name.trim(), spec }, { idempotencyKey });
      location.hash = href('/tenants/:name', { name: tenant.name });
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  };

  return (
    <>
      <PageTitle title="New tenant">New tenant</PageTitle>
      <form
        class="stack"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <label for="c-name">Name</label>
        <input
          id="c-name"
          name="name"
          required
          aria-describedby="c-name-help"
          value={name}
          onInput={(e) => setName(e.currentTarget.value)}
          autoComplete="off"
        />
        <p id="c-name-help" class="help">
          A DNS label: lower-case letters, digits and hyphens, up to 63.
        </p>
        <label for="c-provider">Provider</label>
        <select
          id="c-provider"
          value={chosen}
          onChange={(e) => {
            setProvider(e.currentTarget.value);
            setConfig(undefined);
          }}
        >
          {providers.data?.items.map((p) => (
            <option key={p.type} value={p.type}>
              {p.type}
              {p.default ? ' (default)' : ''}
            </option>
          ))}
        </select>
        <label for="c-config">Config (YAML)</label>
        <textarea
          id="c-config"
          rows={8}
          spellcheck={false}
          class="mono"
          value={configText}
          onInput={(e) => setConfig(e.currentTarget.value)}
        />
        <label for="c-labels">Labels</label>
        <input
          id="c-labels"
          placeholder="plan=pro, tier=gold"
          value={labels}
          onInput={(e) => setLabels(e.currentTarget.value)}
          autoComplete="off"
        />
        <ErrorBox error={error ?? providers.error} />
        <div class="actions">
          <button type="submit" disabled={busy}>
            Create tenant
          </button>
          <a href={href('/tenants')}>Cancel</a>
        </div>
      </form>
    </>
  );
}
