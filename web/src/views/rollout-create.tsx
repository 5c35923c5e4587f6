/**
 * Create a rollout: which tenants (a label selector and/or names), the change (a JSON merge patch
 * of their spec, as YAML), the waves and the failure policy. "Preview waves" asks the server for a
 * dry run (`POST /v1/rollouts?dryRun=true`): it resolves and validates every member and answers
 * the waves with their tenants and the members whose change would be refused; nothing starts.
 * "Start rollout" is offered only for the form as previewed (any edit asks for a new preview).
 */
import { useState } from 'preact/hooks';
import type { CreateRolloutRequest, RolloutDryRun } from '../../../src/api/types.js';
import { ErrorBox, PageTitle, Section } from '../components/common.js';
import { api } from '../lib/api.js';
import type { ViewProps } from '../lib/route-def.js';
import { href } from '../lib/router.js';
import { parseIndexes, parseNames, parseWaves } from '../lib/rollout.js';
import { yamlToObject } from '../lib/spec-yaml.js';

const SHOWN_NAMES = 50;

interface Form {
  description: string;
  labels: string;
  names: string;
  patch: string;
  waves: string;
  maxParallel: string;
  minHealthyMs: string;
  pauseAfterWaves: string;
  maxFailedPercent: string;
  onHalt: 'pause' | 'rollback';
}

const INITIAL: Form = {
  description: '',
  labels: '',
  names: '',
  patch: 'labels:\n  release: "2"\n',
  waves: '10%, 50%, 100%',
  maxParallel: '10',
  minHealthyMs: '0',
  pauseAfterWaves: '',
  maxFailedPercent: '',
  onHalt: 'pause',
};

function wholeNumber(text: string, what: string): number {
  if (!/^\d+$/.test(text.trim())) throw new Error(`${what}: "${text}" is not a whole number`);
  return Number(text.trim());
}

/** The request the form describes; throws on what cannot be a request (the server checks the rest). */
export function requestOf(form: Form): CreateRolloutRequest {
  const names = parseNames(form.names);
  const percent = form.maxFailedPercent.trim();
  return {
    description: form.description.trim(),
    selector: {
      ...(form.labels.trim() && { labels: form.labels.trim() }),
      ...(names.length > 0 && { names }),
    },
    change: { patch: yamlToObject(form.patch) },
    strategy: {
      waves: parseWaves(form.waves),
      maxParallel: wholeNumber(form.maxParallel, 'max parallel'),
      minHealthyMs: wholeNumber(form.minHealthyMs, 'min healthy'),
      pauseAfterWaves: parseIndexes(form.pauseAfterWaves, 'pause after waves'),
    },
    failurePolicy: {
      maxFailedPercent: percent === '' ? null : Number(percent),
      onHalt: form.onHalt,
    },
  };
}

export function CreateRollout(_props: ViewProps) {
  const [form, setForm] = useState<Form>(INITIAL);
  const [preview, setPreview] = useState<{ request: CreateRolloutRequest; dryRun: RolloutDryRun }>();
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const field =
    (key: keyof Form) =>
    (e: { currentTarget: HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement }) => {
      setForm((f) => ({ ...f, [key]: e.currentTarget.value }));
      setPreview(undefined);
    };

  const runPreview = async () => {
    setError(undefined);
    setBusy(true);
    try {
      const request = requestOf(form);
      setPreview({ request, dryRun: await api().planRollout(request) });
    } catch (e) {
      setPreview(undefined);
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const start = async () => {
    if (!preview) return;
    setError(undefined);
    setBusy(true);
    try {
      const rollout = await api().createRollout(preview.request);
      location.hash = href('/rollouts/:id', { id: rollout.id });
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  };

  return (
    <>
      <PageTitle title="New rollout">New rollout</PageTitle>
      <form
        class="stack"
        onSubmit={(e) => {
          e.preventDefault();
          void runPreview();
        }}
      >
        <label for="ro-description">Description</label>
        <input
          id="ro-description"
          value={form.description}
          onInput={field('description')}
          autoComplete="off"
        />
        <fieldset>
          <legend>Tenants</legend>
          <label for="ro-labels">Label selector</label>
          <input
            id="ro-labels"
            value={form.labels}
            onInput={field('labels')}
            placeholder="plan=pro,region!=eu"
            aria-describedby="ro-selector-help"
            autoComplete="off"
          />
          <label for="ro-names">Tenant names</label>
          <input
            id="ro-names"
            value={form.names}
            onInput={field('names')}
            placeholder="acme, globex"
            aria-describedby="ro-selector-help"
            autoComplete="off"
          />
          <p class="help" id="ro-selector-help">
            Give a selector, names, or both; members are resolved once, at start, ordered by name.
          </p>
        </fieldset>
        <label for="ro-patch">Change (JSON merge patch of the spec, as YAML)</label>
        <textarea
          id="ro-patch"
          class="mono"
          rows={6}
          spellcheck={false}
          value={form.patch}
          onInput={field('patch')}
        />
        <fieldset>
          <legend>Strategy</legend>
          <label for="ro-waves">Waves (cumulative counts or percents)</label>
          <input id="ro-waves" value={form.waves} onInput={field('waves')} autoComplete="off" />
          <label for="ro-parallel">Max parallel</label>
          <input
            id="ro-parallel"
            inputMode="numeric"
            value={form.maxParallel}
            onInput={field('maxParallel')}
          />
          <label for="ro-healthy">Min healthy (ms)</label>
          <input
            id="ro-healthy"
            inputMode="numeric"
            value={form.minHealthyMs}
            onInput={field('minHealthyMs')}
          />
          <label for="ro-pause">Pause after waves (indexes from 0)</label>
          <input
            id="ro-pause"
            value={form.pauseAfterWaves}
            onInput={field('pauseAfterWaves')}
            placeholder="0"
            autoComplete="off"
          />
        </fieldset>
        <fieldset>
          <legend>Failure policy</legend>
          <label for="ro-failed">Halt above this percent failed in a wave</label>
          <input
            id="ro-failed"
            inputMode="decimal"
            value={form.maxFailedPercent}
            onInput={field('maxFailedPercent')}
            placeholder="no limit"
          />
          <label for="ro-onhalt">On halt</label>
          <select id="ro-onhalt" value={form.onHalt} onChange={field('onHalt')}>
            <option value="pause">pause (halted, waits for a decision)</option>
            <option value="rollback">roll back every change</option>
          </select>
        </fieldset>
        <div class="actions">
          <button type="submit" disabled={busy}>
            Preview waves
          </button>
          <a href={href('/rollouts')}>Cancel</a>
        </div>
      </form>
      <ErrorBox error={error} />
      {preview && <Preview dryRun={preview.dryRun} busy={busy} onStart={() => void start()} />}
    </>
  );
}

function Preview({ dryRun, busy, onStart }: { dryRun: RolloutDryRun; busy: boolean; onStart: () => void }) {
  return (
    <Section title="Waves (dry run: nothing started)">
      <div data-testid="rollout-preview" class="stack-gap">
        <p>
          <strong data-testid="preview-total">{dryRun.total}</strong> tenant{dryRun.total === 1 ? '' : 's'} in{' '}
          {dryRun.waves.length} wave{dryRun.waves.length === 1 ? '' : 's'}.
        </p>
        <ol class="waves" aria-label="Waves and their tenants">
          {dryRun.waves.map((w) => (
            <li key={w.index} data-wave={w.index}>
              <strong>Wave {w.index + 1}</strong> ({w.size}): {w.tenants.slice(0, SHOWN_NAMES).join(', ')}
              {w.tenants.length > SHOWN_NAMES && ` and ${w.tenants.length - SHOWN_NAMES} more`}
            </li>
          ))}
        </ol>
        {dryRun.invalid.length > 0 && (
          <div class="error" role="note">
            {dryRun.invalid.length} member{dryRun.invalid.length === 1 ? '' : 's'} would be refused:
            <ul>
              {dryRun.invalid.map((m) => (
                <li key={m.tenantId}>
                  {m.tenant}: {m.error.code} — {m.error.message}
                </li>
              ))}
            </ul>
          </div>
        )}
        <div class="actions">
          <button
            type="button"
            disabled={busy || dryRun.total === 0 || dryRun.invalid.length > 0}
            onClick={onStart}
          >
            Start rollout
          </button>
        </div>
      </div>
    </Section>
  );
}
