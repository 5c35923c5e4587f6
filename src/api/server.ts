/**
 * `createApiServer`: the HTTP API v1 as a fastify instance, not yet listening. The composition root
 * calls `listen` (loopback only without tokens: the configuration refuses other hosts) and
 * `close()` on shutdown (which also ends open event streams).
 *
 * Request pipeline: request id (client `X-Request-Id` when sane, else a UUID; echoed on every
 * response and bound to every log line as `requestId`) → bearer auth and role check → rate limit →
 * body parsing (JSON only; merge-patch JSON on PATCH; 1 MiB) → zod validation (a tenant GET's path
 * and query accepted without a parse when zod would accept them, fast-validation.ts) → handler → zod
 * serialisation (tenants: a projection onto the schema's fields, response-serializer.ts). Every failure on the way is a problem+json from problem.ts.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import Fastify, { type FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { Registry } from 'prom-client';
import { UnavailableError } from '../domain/errors.js';
import type { ApiApp, ApiContext, ApiDeps, ApiOptions } from './api-deps.js';
import { registerAuditRoutes } from './audit-routes.js';
import { registerCallbackRoutes } from './callbacks-routes.js';
import { registerDashboardRoutes } from './dashboard-routes.js';
import { registerEventRoutes } from './events-routes.js';
import { fastValidatorCompiler } from './fast-validation.js';
import { registerExecutionRoutes } from './executions-routes.js';
import { registerHealthRoutes } from './health-routes.js';
import { registerHooks } from './hooks.js';
import { registerLogRoutes } from './logs-routes.js';
import { registerOpenApi } from './openapi.js';
import { registerOverviewRoutes } from './overview-routes.js';
import { clientErrorHandler, httpError, replyWithProblem } from './problem.js';
import { registerPlanRoutes } from './plans-routes.js';
import { registerProviderRoutes } from './providers-routes.js';
import { deferredChildLogger, RequestLogController } from './request-log.js';
import { responseSerializerCompiler } from './response-serializer.js';
import { registerRolloutRoutes } from './rollouts-routes.js';
import { registerRunRoutes } from './runs-routes.js';
import { MERGE_PATCH, registerTenantChangeRoutes } from './tenant-changes-routes.js';
import { registerTenantRoutes } from './tenants-routes.js';
import { registerWebhookRoutes } from './webhooks-routes.js';
import { registerTenantRevisionRoutes } from './tenant-revisions-routes.js';

export const API_VERSION = '1.0.0';
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The client's `X-Request-Id` when it is a sane token (≤ 128 of `[A-Za-z0-9._:-]`), else a UUID. */
export function requestIdOf(request: IncomingMessage): string {
  const header = request.headers['x-request-id'];
  return typeof header === 'string' && REQUEST_ID.test(header) ? header : randomUUID();
}

export async function createApiServer(deps: ApiDeps, options: ApiOptions): Promise<FastifyInstance> {
  const ctx: ApiContext = { deps, options, now: deps.now ?? (() => new Date()) };
  const app: ApiApp = Fastify({
    loggerInstance: deps.logger,
    genReqId: requestIdOf,
    logController: new RequestLogController(),
    childLoggerFactory: deferredChildLogger,
    bodyLimit: options.bodyLimitBytes,
    requestTimeout: options.requestTimeoutMs,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    // Requests that reach a closing server get our own 503 problem (`refuseWhileClosing`).
    return503OnClosing: false,
    routerOptions: { maxParamLength: 300 },
    clientErrorHandler,
    frameworkErrors: (error, request, reply) => {
      void replyWithProblem(error, request, reply);
    },
  }).withTypeProvider<ZodTypeProvider>();

  app.setValidatorCompiler(fastValidatorCompiler);
  app.setSerializerCompiler(responseSerializerCompiler);
  app.setErrorHandler((error, request, reply) => replyWithProblem(error, request, reply));
  app.setNotFoundHandler((request, reply) =>
    replyWithProblem(
      httpError('NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0] ?? ''}`),
      request,
      reply,
    ),
  );
  configureBodyParsers(app);
  refuseWhileClosing(app);
  const registry = deps.metrics ?? new Registry();
  registerHooks(app, ctx, registry);

  await registerOpenApi(app, API_VERSION);
  registerHealthRoutes(app, ctx, registry);
  registerTenantRoutes(app, ctx);
  registerTenantChangeRoutes(app, ctx);
  registerTenantRevisionRoutes(app, ctx);
  registerPlanRoutes(app, ctx);
  registerExecutionRoutes(app, ctx);
  registerRunRoutes(app, ctx);
  registerProviderRoutes(app, ctx);
  registerCallbackRoutes(app, ctx);
  registerEventRoutes(app, ctx);
  registerLogRoutes(app, ctx);
  registerAuditRoutes(app, ctx);
  registerWebhookRoutes(app, ctx);
  registerRolloutRoutes(app, ctx);
  registerOverviewRoutes(app, ctx);
  if (options.dashboard) registerDashboardRoutes(app, options.dashboard.dir);
  scheduleIdempotencySweep(app, ctx);
  return app;
}

/**
 * Once `close()` began, a request that still arrives (on a kept-alive connection) is answered 503
 * UNAVAILABLE as problem+json with `Retry-After` and `Connection: close`, so the client retries
 * elsewhere; requests already in flight finish.
 */
function refuseWhileClosing(app: ApiApp): void {
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onRequest', (_request, reply, done) => {
    if (!closing) {
      done();
      return;
    }
    void reply.header('connection', 'close');
    done(new UnavailableError('the server is shutting down; retry'));
  });
}

/** JSON only (text/plain is not a body type here), plus JSON merge patch. */
function configureBodyParsers(app: ApiApp): void {
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser(MERGE_PATCH, { parseAs: 'string' }, app.getDefaultJsonParser('error', 'error'));
}

/** Expired idempotency keys are dropped hourly (and once at start); failures only log. */
function scheduleIdempotencySweep(app: ApiApp, ctx: ApiContext): void {
  const sweep = (): void => {
    ctx.deps.store.idempotency
      .deleteExpired(ctx.now().getTime())
      .catch((error: unknown) => app.log.warn({ err: error }, 'could not delete expired idempotency keys'));
  };
  let timer: NodeJS.Timeout | undefined;
  app.addHook('onReady', async () => {
    sweep();
    timer = setInterval(sweep, 3600_000);
    timer.unref();
  });
  app.addHook('onClose', async () => clearInterval(timer));
}
