/**
 * `GET /v1/workflows/runs/{runId}`: one tenant's workflow run with its step journal (the audit
 * trail), its tenant fields read from the run's tags (domain/tenant-run.ts); a run of another
 * subject is not served here. Run inputs and step results may carry a spec, so they pass through
 * `redactDeep` first.
 */
import { NotFoundError } from '../domain/errors.js';
import { asTenantRun } from '../domain/tenant-run.js';
import type { ApiApp, ApiContext } from './api-deps.js';
import { RunParams } from './schemas-query.js';
import { WorkflowRunSchema } from './schemas-resources.js';
import { redactDeep } from './tenant-view.js';

export function registerRunRoutes(app: ApiApp, ctx: ApiContext): void {
  const { runs, providers } = ctx.deps;
  app.get(
    '/v1/workflows/runs/:runId',
    {
      schema: {
        operationId: 'getRun',
        summary: 'Get a workflow run with its step journal',
        description:
          "A run is one attempt to bring a tenant's runtime to one generation (provision, update or " +
          'delete), on the embedded engine or on Restate. Its journal lists every durable step in ' +
          'order with result or error and timing: the audit trail of what the workflow did. Inputs ' +
          'and results are shown with secrets redacted. `status.workflow.runId` of a tenant names ' +
          'its latest run.',
        tags: ['workflows'],
        params: RunParams,
        response: { 200: WorkflowRunSchema },
      },
    },
    async (request) => {
      const { runId } = request.params;
      const [stored, journal] = await Promise.all([runs.getRun(runId), runs.journal(runId)]);
      const run = stored && asTenantRun(stored);
      if (!run) throw new NotFoundError('workflow run', runId);
      const redact = (value: unknown): unknown => redactDeep(value, providers);
      const steps = journal.map((step) => ({
        ...step,
        result: redact(step.result),
        error: redact(step.error),
      }));
      return {
        ...run,
        input: redact(run.input),
        output: redact(run.output),
        error: redact(run.error),
        steps,
      };
    },
  );
}
