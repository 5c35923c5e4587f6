/**
 * Edit a tenant's spec as YAML: "Preview" sends the edited spec as a server dry run
 * (`PUT ?dryRun=true` with `If-Match`): every check of the real write runs — schema, plan, policy,
 * privileges — and nothing is stored; the preview shows the server's RFC 6902 diff and a line diff
 * of the spec it would store (defaults applied). "Apply" then replaces the spec with `If-Match` set
 * to the version the edit started from, so a change made meanwhile is refused (412) rather than
 * overwritten. Secret values show as "***" and, left as they are, keep their stored value.
 */
import { useState } from 'preact/hooks';
import type { DryRunTenant, Tenant, TenantSpecInput } from '../../../src/api/types.js';
import { ErrorBox, Loading, PageTitle } from '../components/common.js';
import { DiffView } from '../components/diff-view.js';
import { PatchView } from '../components/patch-view.js';
import { api } from '../lib/api.js';
import { lineDiff, type DiffLine } from '../lib/diff.js';
import { changeCount } from '../lib/patch.js';
import type { ViewProps } from '../lib/route-def.js';
import { href } from '../lib/router.js';
import { specToYaml, yamlToSpec } from '../lib/spec-yaml.js';
import { useAsync } from '../lib/use-async.js';

export function EditTenant({ params }: ViewProps) {
  const tenant = useAsync(() => api().getTenant(params.name!), [params.name]);
  if (!tenant.data) {
    return (
      <>
        <PageTitle title={`Edit ${params.name!}`}>Edit {params.name}</PageTitle>
        {tenant.error ? <ErrorBox error={tenant.error} /> : <Loading />}
      </>
    );
  }
  return <Editor tenant={tenant.data} />;
}

function Editor({ tenant }: { tenant: Tenant }) {
  const original = specToYaml(tenant.spec);
  const [text, setText] = useState(original);
  const [preview, setPreview] = useState<
    { spec: TenantSpecInput; dryRun: DryRunTenant; diff: DiffLine[] } | undefined
  >(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);

  const showPreview = async () => {
    setError(undefined);
    setBusy(true);
    try {
      const spec = yamlToSpec(text);
      const dryRun = await api().replaceSpec(tenant.id, spec, { ifMatch: tenant.version, dryRun: true });
      setPreview({ spec, dryRun, diff: lineDiff(original, specToYaml(dryRun.spec)) });
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
      const updated = await api().replaceSpec(tenant.id, preview.spec, { ifMatch: tenant.version });
      location.hash = href('/tenants/:name', { name: updated.name });
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  };

  return (
    <>
      <PageTitle title={`Edit ${tenant.name}`}>Edit {tenant.name}</PageTitle>
      <p>
        Generation {tenant.generation}, version {tenant.version}. Values shown as <code>***</code> are
        secrets: leave them to keep them.
      </p>
      <form
        class="stack"
        onSubmit={(e) => {
          e.preventDefault();
          void showPreview();
        }}
      >
        <label for="e-spec">Spec (YAML)</label>
        <textarea
          id="e-spec"
          rows={Math.min(30, Math.max(10, text.split('\n').length + 2))}
          spellcheck={false}
          class="mono"
          value={text}
          onInput={(e) => {
            setText(e.currentTarget.value);
            setPreview(undefined);
          }}
        />
        <div class="actions">
          <button type="submit" disabled={busy}>
            Preview changes
          </button>
          <a href={href('/tenants/:name', { name: tenant.name })}>Cancel</a>
        </div>
      </form>
      <ErrorBox error={error} />
      {preview && (
        <section aria-labelledby="preview-title" class="section" data-testid="preview">
          <h2 id="preview-title">
            Changes to apply: {changeCount(preview.dryRun.diff ?? [])} (dry run by the server, nothing applied
            yet)
          </h2>
          {(preview.dryRun.diff ?? []).length > 0 ? (
            <>
              <PatchView ops={preview.dryRun.diff ?? []} label="Changes the server would make" />
              <DiffView diff={preview.diff} label="Spec diff: current against edited" />
              <button type="button" disabled={busy} onClick={() => void apply()}>
                Apply (generation {tenant.generation + 1})
              </button>
            </>
          ) : (
            <p class="muted">The edited spec is the same as the current one: nothing to apply.</p>
          )}
        </section>
      )}
    </>
  );
}
