/**
 * Edit a tenant's spec as YAML: "Preview" shows the change as a diff of the spec before anything is
 * sent; "Apply" replaces the spec with `If-Match` set to the version the edit started from, so a
 * change made meanwhile is refused (412) rather than overwritten. Secret values show as "***" and,
 * left as they are, keep their stored value.
 */
import { useState } from 'preact/hooks';
import type { Tenant, TenantSpecInput } from '../../../src/api/types.js';
import { ErrorBox, Loading, PageTitle } from '../components/common.js';
import { DiffView } from '../components/diff-view.js';
import { api } from '../lib/api.js';
import { hasChanges, lineDiff, type DiffLine } from '../lib/diff.js';
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
  const [preview, setPreview] = useState<{ spec: TenantSpecInput; diff: DiffLine[] } | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);

  const showPreview = () => {
    setError(undefined);
    try {
      const spec = yamlToSpec(text);
      setPreview({ spec, diff: lineDiff(original, specToYaml(spec)) });
    } catch (e) {
      setPreview(undefined);
      setError(e);
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
          showPreview();
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
          <button type="submit">Preview changes</button>
          <a href={href('/tenants/:name', { name: tenant.name })}>Cancel</a>
        </div>
      </form>
      <ErrorBox error={error} />
      {preview && (
        <section aria-labelledby="preview-title" class="section" data-testid="preview">
          <h2 id="preview-title">Changes to apply</h2>
          {hasChanges(preview.diff) ? (
            <>
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
