/**
 * One plan: its latest revision (secrets masked by the server), every revision with who wrote it,
 * and a diff between any two revisions (of the documents the server answers). An admin may write a
 * new revision: the edited plan goes to the server as a dry run (`PUT ?dryRun=true`, If-Match the
 * revision on screen) — every check runs, nothing is stored — and its result is shown as a diff;
 * "Apply" then writes it with the same If-Match, so a revision written meanwhile is refused (412).
 */
import { useState } from 'preact/hooks';
import type { Plan, PlanRevision, ReplacePlanRequest } from '../../../src/api/types.js';
import { ErrorBox, KeyValues, Loading, PageTitle, Section, Time } from '../components/common.js';
import { CompareForm } from '../components/compare-form.js';
import { DiffView } from '../components/diff-view.js';
import { api } from '../lib/api.js';
import { useCan } from '../lib/app-context.js';
import { hasChanges, lineDiff, type DiffLine } from '../lib/diff.js';
import type { ViewProps } from '../lib/route-def.js';
import { yamlToObject } from '../lib/spec-yaml.js';
import { stringify } from 'yaml';
import { useAsync } from '../lib/use-async.js';

/** The writable part of a plan (or revision) as YAML: what an admin edits, and what diffs compare. */
function planYaml(plan: Plan | PlanRevision): string {
  return stringify(
    { description: plan.description, spec: plan.spec, allowedOverrides: plan.allowedOverrides },
    { indent: 2, lineWidth: 0 },
  );
}

export function PlanView({ params }: ViewProps) {
  const name = params.name!;
  const plan = useAsync(() => api().getPlan(name), [name]);
  const revisions = useAsync(() => api().planRevisions(name, { limit: 100 }), [name, plan.data?.revision]);
  const isAdmin = useCan('admin');
  if (!plan.data) {
    return (
      <>
        <PageTitle title={`Plan ${name}`}>Plan {name}</PageTitle>
        {plan.error ? <ErrorBox error={plan.error} /> : <Loading what="Loading plan" />}
      </>
    );
  }
  const p = plan.data;
  return (
    <>
      <PageTitle title={`Plan ${p.name}`}>Plan {p.name}</PageTitle>
      <div class="columns">
        <Section title="Latest revision">
          <KeyValues
            rows={[
              ['Revision', <span data-testid="plan-revision">{p.revision}</span>],
              ['Provider', p.spec.provider],
              ['Description', p.description || '—'],
              ['Overrides allowed', <span class="mono">{p.allowedOverrides.join(', ') || '—'}</span>],
              ['Created', <Time at={p.createdAt} />],
              ['Updated', <Time at={p.updatedAt} />],
            ]}
          />
        </Section>
        <Section title="Plan as YAML">
          <pre class="code" tabIndex={0} aria-label="The plan as YAML, secret values masked">
            {planYaml(p)}
          </pre>
        </Section>
      </div>
      <Revisions items={revisions.data?.items ?? []} error={revisions.error} />
      {isAdmin && <NewRevision key={p.revision} plan={p} onDone={() => plan.reload()} />}
    </>
  );
}

function Revisions({ items, error }: { items: readonly PlanRevision[]; error: unknown }) {
  const newest = items[0]?.revision ?? 1;
  const [from, setFrom] = useState<number | undefined>(undefined);
  const [to, setTo] = useState<number | undefined>(undefined);
  const [shown, setShown] = useState<{ from: number; to: number; diff: DiffLine[] } | undefined>(undefined);
  const a = from ?? Math.max(1, newest - 1);
  const b = to ?? newest;
  const compare = (x: number, y: number) => {
    const rx = items.find((r) => r.revision === x);
    const ry = items.find((r) => r.revision === y);
    if (rx && ry) setShown({ from: x, to: y, diff: lineDiff(planYaml(rx), planYaml(ry)) });
  };
  return (
    <Section title="Revisions">
      <ErrorBox error={error} />
      {items.length > 0 && (
        <table data-testid="plan-revisions">
          <caption class="sr-only">Revisions of the plan, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Revision</th>
              <th scope="col">Written by</th>
              <th scope="col">When</th>
              <th scope="col">Description</th>
              <th scope="col">Diff</th>
            </tr>
          </thead>
          <tbody>
            {items.map((r) => (
              <tr key={r.revision}>
                <td class="num">{r.revision}</td>
                <td>{r.actor}</td>
                <td>
                  <Time at={r.createdAt} />
                </td>
                <td class="wrap">{r.description}</td>
                <td>
                  {r.revision > 1 && items.some((x) => x.revision === r.revision - 1) && (
                    <button
                      type="button"
                      class="secondary"
                      onClick={() => {
                        setFrom(r.revision - 1);
                        setTo(r.revision);
                        compare(r.revision - 1, r.revision);
                      }}
                    >
                      Diff {r.revision - 1} → {r.revision}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {items.length > 1 && (
        <CompareForm
          noun="revision"
          idPrefix="pr"
          versions={items.map((r) => r.revision)}
          from={a}
          to={b}
          onFrom={setFrom}
          onTo={setTo}
          onCompare={compare}
        />
      )}
      {shown && (
        <div class="stack-gap" data-testid="plan-diff">
          <h3>
            Revision {shown.from} → {shown.to}
          </h3>
          {hasChanges(shown.diff) ? (
            <DiffView diff={shown.diff} label={`Plan diff: revision ${shown.from} against ${shown.to}`} />
          ) : (
            <p class="muted">The two revisions are the same.</p>
          )}
        </div>
      )}
    </Section>
  );
}

function NewRevision({ plan, onDone }: { plan: Plan; onDone: () => void }) {
  const original = planYaml(plan);
  const [text, setText] = useState(original);
  const [preview, setPreview] = useState<{ body: ReplacePlanRequest; result: Plan; diff: DiffLine[] }>();
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const ifMatch = { ifMatch: plan.revision };
  const runPreview = async () => {
    setBusy(true);
    setError(undefined);
    try {
      const body = yamlToObject(text) as ReplacePlanRequest;
      const result = await api().replacePlan(plan.name, body, { ...ifMatch, dryRun: true });
      setPreview({ body, result, diff: lineDiff(original, planYaml(result)) });
    } catch (e) {
      setPreview(undefined);
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const apply = async () => {
    if (!preview) return;
    setBusy(true);
    setError(undefined);
    try {
      await api().replacePlan(plan.name, preview.body, ifMatch);
      onDone();
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  };
  return (
    <Section title="New revision">
      <form
        class="stack"
        onSubmit={(e) => {
          e.preventDefault();
          void runPreview();
        }}
      >
        <label for="plan-yaml">Plan (YAML)</label>
        <textarea
          id="plan-yaml"
          class="mono"
          rows={Math.min(24, Math.max(8, text.split('\n').length + 2))}
          spellcheck={false}
          value={text}
          onInput={(e) => {
            setText(e.currentTarget.value);
            setPreview(undefined);
          }}
        />
        <p class="help">
          Values shown as <code>***</code> are secrets: leave them to keep them. Tenants stay on the revision
          they are pinned to.
        </p>
        <div class="actions">
          <button type="submit" disabled={busy}>
            Preview revision
          </button>
        </div>
      </form>
      <ErrorBox error={error} />
      {preview && (
        <div class="preview" data-testid="plan-preview">
          <h3>
            {preview.result.revision === plan.revision
              ? 'Nothing changes: the plan stays at this revision.'
              : `Revision ${preview.result.revision} (dry run by the server, nothing stored yet)`}
          </h3>
          {preview.result.revision !== plan.revision && (
            <>
              <DiffView diff={preview.diff} label="Plan diff: current against edited" />
              <div class="actions">
                <button type="button" disabled={busy} onClick={() => void apply()}>
                  Apply (revision {preview.result.revision})
                </button>
              </div>
            </>
          )}
        </div>
      )}
    </Section>
  );
}
