/**
 * The `restate` workflow engine: the definitions run as one Restate workflow service hosted by this
 * process (see `lessor-run-service.ts`); Restate keeps the journal, timers and durable promises.
 * Lessor's `workflow_runs` row stays the source of truth the API reads: created here by `start`,
 * then written by the service's handler (running / waiting / backing-off / terminal).
 *
 * - `start`: `createOrGet` the row, then submit `run` with workflow key = run id through the ingress
 *   — also for an existing row still `pending` (a crash between the two), since a duplicate
 *   submission is a no-op for Restate. The submission goes on in the background (run-submitter.ts):
 *   `start` returns once the row is stored, without waiting out a round trip through Restate's log.
 * - `resolvePromise`: a no-op for a run that is unknown or finished in Lessor's table; otherwise it
 *   sends an invocation of the `resolve` shared handler through the ingress (first value wins,
 *   duplicates change nothing), and returns once Restate has it in its log. Any failure to reach
 *   Restate, or an unexpected answer (404 included: the service is not registered), throws, so the
 *   callback dispatcher retries it.
 * - `cancel`: marks the row `cancelled` (guarded by the active states), then cancels the Restate
 *   invocation through the admin API (its id found with the SQL introspection API). Restate's
 *   cancellation reaches the workflow at its next durable call; if the admin API cannot be reached,
 *   the next guarded write of the run notices instead.
 * - `open`: serves the endpoint, registers it (`force`: re-registering the same URL updates it in
 *   place), then resumes invocations Restate paused after exhausting the retry policy.
 */
import { isRunActive, type WorkflowRun, type WorkflowStep } from '../../domain/workflow-run.js';
import type { Logger } from '../../domain/logger.js';
import { TRACEPARENT_TAG } from '../../domain/tracing.js';
import { Definitions } from '../definitions.js';
import type { StartRunRequest, WorkflowEngine } from '../engine.js';
import { IGNORE_RUN_CHANGES } from '../run-observer.js';
import { RunRecords } from '../run-records.js';
import { toJournalValue } from '../step-error.js';
import { EndpointServer } from './endpoint-server.js';
import { lessorRunService, RUN_LAYOUT, type RunPayload } from './lessor-run-service.js';
import { resolveRestateOptions, type ResolvedRestateOptions, type RestateEngineOptions } from './options.js';
import { RestateHttp } from './restate-http.js';
import { RunRecorder } from './run-recorder.js';
import { RunSubmitter } from './run-submitter.js';
import { StepTracker } from './step-tracker.js';

/** Refusals in a row, with the endpoint listening, before an OS-chosen port is given up for another. */
const REBIND_AFTER_REFUSALS = 3;

export class RestateWorkflowEngine implements WorkflowEngine {
  readonly type = 'restate' as const;
  private readonly options: ResolvedRestateOptions;
  private readonly definitions: Definitions;
  private readonly http: RestateHttp;
  private readonly records: RunRecords;
  private readonly recorder: RunRecorder;
  private readonly submitter: RunSubmitter;
  private readonly endpoint = new EndpointServer();
  private readonly steps = new StepTracker();
  private readonly log: Logger;
  private url: string | null = null;
  private phase: 'new' | 'opening' | 'open' | 'closing' | 'closed' = 'new';

  constructor(private readonly config: RestateEngineOptions) {
    this.options = resolveRestateOptions(config);
    this.definitions = new Definitions(config.definitions);
    this.log = config.logger.child({ engine: 'restate', restateService: this.options.serviceName });
    this.http = new RestateHttp(
      this.options.adminUrl,
      this.options.ingressUrl,
      this.options.requestTimeoutMs,
    );
    const records = new RunRecords(
      config.store.runs,
      config.observer ?? IGNORE_RUN_CHANGES,
      this.log,
      Date.now,
    );
    this.records = records;
    this.recorder = new RunRecorder(records, config.store.steps, this.log);
    this.submitter = new RunSubmitter({
      send: (runId, payload) => this.http.submitRun(this.options.serviceName, runId, payload),
      getRun: (runId) => config.store.runs.get(runId),
      log: this.log,
      initialRetryMs: this.options.retryPolicy.initialIntervalMs,
      maxRetryMs: this.options.retryPolicy.maxIntervalMs,
    });
  }

  /** The Restate workflow service hosting the definitions. */
  get serviceName(): string {
    return this.options.serviceName;
  }

  /** The URL Restate calls this process at (known once `open` has bound the port). */
  get endpointUrl(): string {
    if (this.url === null) throw new Error('the restate engine is not open');
    return this.url;
  }

  async open(): Promise<void> {
    if (this.phase !== 'new') return;
    this.phase = 'opening';
    const service = lessorRunService({
      definitions: this.definitions,
      options: this.options,
      log: this.log,
      recorder: this.recorder,
      steps: this.steps,
      closing: () => this.phase === 'closing' || this.phase === 'closed',
    });
    try {
      this.url = await this.serve(service);
      await this.register(service);
    } catch (error) {
      await this.endpoint.destroy();
      this.phase = 'closed';
      throw error;
    }
    this.phase = 'open';
    await this.resumePaused();
  }

  async start(request: StartRunRequest): Promise<{ run: WorkflowRun; created: boolean }> {
    this.definitions.require(request.workflow);
    const result = await this.records.create(request, 'restate');
    if (result.run.engine !== 'restate' || (!result.created && result.run.state !== 'pending')) return result;
    const traceparent = result.run.tags[TRACEPARENT_TAG];
    const payload: RunPayload = {
      workflow: result.run.workflow,
      input: result.run.input,
      ...(traceparent !== undefined && { traceparent }),
      layout: RUN_LAYOUT,
    };
    this.submitter.submit(request.runId, payload);
    return result;
  }

  async cancel(runId: string, reason: string): Promise<boolean> {
    const cancelled = await this.recorder.cancel(runId, reason);
    const run = cancelled ?? (await this.config.store.runs.get(runId));
    // Also for a run already cancelled: a caller retrying after a failed Restate cancel gets it done.
    if (run?.engine === 'restate' && run.state === 'cancelled') await this.cancelInvocation(runId);
    return cancelled !== undefined;
  }

  async resolvePromise(runId: string, key: string, value: unknown): Promise<void> {
    const run = await this.config.store.runs.get(runId);
    if (!run || !isRunActive(run.state) || run.engine !== 'restate') return;
    // Sent, not called: Restate answers once the `resolve` invocation is in its log, from where it
    // runs whatever happens to this process; the caller (the callback dispatcher) does not wait
    // out that invocation's round trip through Lessor's endpoint.
    await this.http.sendShared(this.options.serviceName, runId, 'resolve', {
      key,
      value: toJournalValue(value),
    });
    this.log.debug({ runId, key }, 'promise resolution sent');
  }

  getRun(runId: string): Promise<WorkflowRun | undefined> {
    return this.config.store.runs.get(runId);
  }

  /** Lessor's audit copy of the journal (Restate's own journal drives replay). */
  journal(runId: string): Promise<readonly WorkflowStep[]> {
    return this.config.store.steps.list(runId);
  }

  /** Throws (UnavailableError) when the admin API does not answer. */
  ping(): Promise<void> {
    return this.http.health();
  }

  /**
   * Takes no new invocation, lets steps in flight finish and be journaled (and submissions in
   * flight reach Restate) for up to `graceMs`, then cuts every connection: Restate retries the
   * unfinished invocations once an endpoint answers at the registered URL again.
   */
  async close(graceMs: number): Promise<void> {
    if (this.phase === 'closing' || this.phase === 'closed') return;
    const wasOpen = this.phase !== 'new';
    this.phase = 'closing';
    const submissions = this.submitter.close(graceMs);
    if (wasOpen) {
      this.endpoint.stopAccepting();
      await this.steps.drained(graceMs);
      await this.endpoint.destroy();
    }
    await submissions;
    this.http.close();
    this.phase = 'closed';
  }

  /** Starts the endpoint; returns the URL Restate is to call it at. */
  private async serve(service: ReturnType<typeof lessorRunService>): Promise<string> {
    const { endpointHost: host, endpointPort: port, identityKeys, endpointUrl } = this.options;
    const bound = await this.endpoint.listen({
      host,
      port,
      services: [service],
      identityKeys,
      log: this.log,
    });
    return endpointUrl ?? `http://${urlHost(host)}:${bound}`;
  }

  /**
   * Retries while Restate starts up (or cannot reach the endpoint yet), up to the registration
   * timeout. When the OS chose the port and Restate keeps being refused by it although this process
   * listens there, the endpoint moves to a fresh port: Restate's connection pool can hold on to a
   * refused connection to an address an earlier, closed endpoint used.
   */
  private async register(service: ReturnType<typeof lessorRunService>): Promise<void> {
    const deadline = Date.now() + this.options.registrationTimeoutMs;
    const ephemeral = this.options.endpointPort === 0 && this.options.endpointUrl === null;
    let refused = 0;
    for (let delay = 100; ; delay = Math.min(delay * 2, 2_000)) {
      const url = this.endpointUrl;
      try {
        const deploymentId = await this.http.registerDeployment(url);
        this.log.info({ url, deploymentId }, 'restate deployment registered');
        return;
      } catch (error) {
        if (Date.now() + delay > deadline) {
          throw new Error(
            `could not register ${url} with the restate admin API at ${this.options.adminUrl}: ${(error as Error).message}`,
            { cause: error },
          );
        }
        this.log.warn({ err: error, url }, 'restate deployment registration failed; retrying');
        refused = /connection refused/i.test((error as Error).message) ? refused + 1 : 0;
        if (ephemeral && refused >= REBIND_AFTER_REFUSALS) {
          await this.endpoint.destroy();
          this.url = await this.serve(service);
          this.log.warn({ from: url, to: this.url }, 'restate endpoint moved to a fresh port');
          refused = 0;
        }
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  /** Best effort: invocations paused after `maxAttempts` get a new chance each time an engine opens. */
  private async resumePaused(): Promise<void> {
    try {
      const rows = await this.http.query<{ id: string }>(
        `SELECT id FROM sys_invocation WHERE target_service_name = ${sqlText(this.options.serviceName)} AND status = 'paused'`,
      );
      for (const { id } of rows) await this.http.resumeInvocation(id);
      if (rows.length > 0) this.log.info({ count: rows.length }, 'resumed paused restate invocations');
    } catch (error) {
      this.log.warn({ err: error }, 'could not look for paused restate invocations');
    }
  }

  /** Cancels the run's live `run` invocation, if any; failures are logged (see the file comment). */
  private async cancelInvocation(runId: string): Promise<void> {
    try {
      const rows = await this.http.query<{ id: string }>(
        `SELECT id FROM sys_invocation WHERE target_service_name = ${sqlText(this.options.serviceName)} ` +
          `AND target_service_key = ${sqlText(runId)} AND target_handler_name = 'run' AND status <> 'completed'`,
      );
      for (const { id } of rows) await this.http.cancelInvocation(id);
    } catch (error) {
      this.log.warn(
        { err: error, runId },
        'could not cancel the restate invocation; the run stops at its next state write',
      );
    }
  }
}

/** A SQL string literal for Restate's introspection queries (DataFusion). */
function sqlText(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** The host part of the endpoint URL: a wildcard bind address is reached on loopback. */
function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}
