/**
 * A tenant's revisions (the spec of every generation): a diff between any two generations, as the
 * server computes it (RFC 6902, secrets masked) beside a line diff of the two specs; and, for
 * operators, rollback to a generation — first a server dry run (`?dryRun=true`, every check of
 * the real write, If-Match included) whose diff is shown, then the rollback itself with If-Match
 * set to the version on screen, so a change made meanwhile is refused (412), not overwritten.
 */
import { useState } from 'preact/hooks';
import type { DryRunTenant, SpecDiff, Tenant, TenantRevision } from '../../../src/api/types.js';
import { ErrorBox, Loading, Section, Time } from '../components/common.js';
import { CompareForm } from '../components/compare-form.js';
import { DiffView } from '../components/diff-view.js';
import { PatchView } from '../components/patch-view.js';
import { api } from '../lib/api.js';
import { useCan } from '../lib/app-context.js';
import { lineDiff } from '../lib/diff.js';
import { changeCount } from '../lib/patch.js';
import { specToYaml } from '../lib/spec-yaml.js';
import { useAsync } from '../lib/use-async.js';

const PAGE = 100;

export function TenantRevisions({ tenant, onDone }: { tenant: Tenant; onDone: () => void }) {
  const canWrite = useCan('write');
  const revisions = useAsync(
    () => api().tenantRevisions(tenant.id, { limit: PAGE }),
    [tenant.id, tenant.generation],
  );
  const [from, setFrom] = useState(Math.max(1, tenant.generation - 1));
  const [to, setTo] = useState(tenant.generation);
  const [diff, setDiff] = useState<{ patch: SpecDiff; lines: ReturnType<typeof lineDiff> } | undefined>();
  const [rollback, setRollback] = useState<{ to: number; dryRun: DryRunTenant } | undefined>();
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const items = revisions.data?.items ?? [];
  const byGeneration = new Map(items.map((r) => [r.generation, r]));
  const writable = tenant.status.phase !== 'deleting' && tenant.status.phase !== 'archived';

  const showDiff = async (a: number, b: number) => {
    setError(undefined);
    setRollback(undefined);
    try {
      const patch = await api().diffTenantRevisions(tenant.id, b, a);
      const [ra, rb] = [byGeneration.get(a), byGeneration.get(b)];
      setDiff({ patch, lines: ra && rb ? lineDiff(specToYaml(ra.spec), specToYaml(rb.spec)) : [] });
    } catch (e) {
      setDiff(undefined);
      setError(e);
    }
  };
  const previewRollback = async (generation: number) => {
    setError(undefined);
    setDiff(undefined);
    try {
      const dryRun = await api().rollbackTenant(tenant.id, generation, {
        ifMatch: tenant.version,
        dryRun: true,
      });
      setRollback({ to: generation, dryRun });
    } catch (e) {
      setRollback(undefined);
      setError(e);
    }
  };
  const applyRollback = async () => {
    if (!rollback) return;
    setBusy(true);
    setError(undefined);
    try {
      await api().rollbackTenant(tenant.id, rollback.to, { ifMatch: tenant.version });
      setRollback(undefined);
      onDone();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Section title="Revisions">
      <ErrorBox error={revisions.error} />
      {!revisions.data && !revisions.error && <Loading what="Loading revisions" />}
      {items.length > 0 && (
        <table data-testid="revisions">
          <caption class="sr-only">Generations of the spec, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Gen.</th>
              <th scope="col">Written by</th>
              <th scope="col">When</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {items.map((r) => (
              <RevisionRow
                key={r.generation}
                revision={r}
                current={r.generation === tenant.generation}
                canRollback={canWrite && writable}
                onDiff={() => {
                  setFrom(r.generation - 1);
                  setTo(r.generation);
                  void showDiff(r.generation - 1, r.generation);
                }}
                onRollback={() => void previewRollback(r.generation)}
              />
            ))}
          </tbody>
        </table>
      )}
      {items.length > 1 && (
        <CompareForm
          noun="generation"
          idPrefix="rev"
          versions={items.map((r) => r.generation)}
          from={from}
          to={to}
          onFrom={setFrom}
          onTo={setTo}
          onCompare={(x, y) => void showDiff(x, y)}
        />
      )}
      <ErrorBox error={error} />
      {diff && (
        <div data-testid="revision-diff" class="stack-gap">
          <h3>
            Generation {diff.patch.from} → {diff.patch.to}: {changeCount(diff.patch.patch)}
          </h3>
          <PatchView
            ops={diff.patch.patch}
            label={`Changes from generation ${diff.patch.from} to ${diff.patch.to}`}
          />
          {diff.lines.length > 0 && (
            <DiffView
              diff={diff.lines}
              label={`Spec of generation ${diff.patch.from} against ${diff.patch.to}`}
            />
          )}
        </div>
      )}
      {rollback && (
        <section aria-labelledby="rollback-title" class="preview" data-testid="rollback-preview">
          <h3 id="rollback-title">
            Roll back to generation {rollback.to}: {changeCount(rollback.dryRun.diff ?? [])} (dry run, nothing
            applied yet)
          </h3>
          <PatchView ops={rollback.dryRun.diff ?? []} label="Changes the rollback would make" />
          <DiffView
            diff={lineDiff(specToYaml(tenant.spec), specToYaml(rollback.dryRun.spec))}
            label="Spec diff: current against rolled back"
          />
          <div class="actions">
            <button type="button" disabled={busy} onClick={() => void applyRollback()}>
              Roll back (generation {rollback.dryRun.generation})
            </button>
            <button type="button" class="secondary" onClick={() => setRollback(undefined)}>
              Cancel
            </button>
          </div>
        </section>
      )}
    </Section>
  );
}

function RevisionRow({
  revision,
  current,
  canRollback,
  onDiff,
  onRollback,
}: {
  revision: TenantRevision;
  current: boolean;
  canRollback: boolean;
  onDiff: () => void;
  onRollback: () => void;
}) {
  return (
    <tr data-generation={revision.generation}>
      <td class="num">
        {revision.generation}
        {current && <span class="muted"> (current)</span>}
      </td>
      <td>{revision.actor}</td>
      <td>
        <Time at={revision.createdAt} />
      </td>
      <td class="row-actions">
        {revision.generation > 1 && (
          <button type="button" class="secondary" onClick={onDiff}>
            Diff with {revision.generation - 1}
          </button>
        )}
        {canRollback && !current && (
          <button type="button" class="secondary" onClick={onRollback}>
            Roll back to {revision.generation}…
          </button>
        )}
      </td>
    </tr>
  );
}
