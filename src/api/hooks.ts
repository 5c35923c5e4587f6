/**
 * Request hooks shared by every route: request-id echo, the loopback guard of no-token mode
 * (loopback-guard.ts), the failed-authentication brake (auth-failure-limit.ts), authentication and
 * role check, rate limit, media-type check of bodies, and the request-duration metric.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Registry } from 'prom-client';
import type { ApiApp, ApiContext } from './api-deps.js';
import { createAuthenticator } from './auth.js';
import { createAuthFailureLimit } from './auth-failure-limit.js';
import { assertLoopbackRequest } from './loopback-guard.js';
import { createHttpMetrics } from './metrics.js';
import { httpError } from './problem.js';
import { createRateLimiter } from './rate-limit.js';
import {
  contextFromHeaders,
  logTraceFields,
  SpanKind,
  startSpan,
  tracingRegistered,
  type Span,
} from '../domain/tracing.js';
import { setRequestTraceContext } from './request-trace.js';

const JSON_ONLY = ['application/json'] as const;

/** `application/json; charset=utf-8` → `application/json`. */
export function mediaTypeOf(header: string | undefined): string | undefined {
  return header?.split(';')[0]?.trim().toLowerCase();
}

export function registerHooks(app: ApiApp, ctx: ApiContext, registry: Registry): void {
  const authenticate = createAuthenticator(ctx.options.tokens);
  const limiter = createRateLimiter(ctx.options.rateLimitPerMinute);
  const authFailures = createAuthFailureLimit(ctx.options.authFailuresPerMinute);
  const loopbackOnly = ctx.options.tokens.length === 0;
  const observe = createHttpMetrics(registry);
  app.decorateRequest('principal', null as never);
  const tracing = requestTracing();

  // Callback-style hooks: an async hook costs a promise and a turn of the microtask queue on
  // every request, the hottest path of the API.
  app.addHook('onRequest', (request, reply, done) => {
    try {
      tracing.start(request, reply);
      reply.header('x-request-id', request.id);
      if (loopbackOnly) assertLoopbackRequest(request.headers);
      const access = request.routeOptions.config.access ?? 'read';
      if (access !== 'open') authFailures.assertNotLockedOut(request.ip);
      // Not `authFailures.counting(ip, () => …)`: no closure per request.
      try {
        request.principal = authenticate(request, access);
      } catch (error) {
        authFailures.failed(request.ip, error);
        throw error;
      }
      if (access !== 'open') {
        const key = request.principal.authenticated ? `token:${request.principal.name}` : `ip:${request.ip}`;
        const waitSeconds = limiter.take(key);
        if (waitSeconds > 0) {
          throw httpError('RATE_LIMITED', `rate limit exceeded; retry in ${waitSeconds} s`, {
            headers: { 'retry-after': String(waitSeconds) },
          });
        }
      }
    } catch (error) {
      done(error as Error);
      return;
    }
    done();
  });

  app.addHook('preValidation', (request, _reply, done) => {
    const type = mediaTypeOf(request.headers['content-type']);
    if (type === undefined || request.body === undefined) {
      done();
      return;
    }
    const accepted = request.routeOptions.config.mediaTypes ?? JSON_ONLY;
    if (!accepted.includes(type)) {
      done(httpError('UNSUPPORTED_MEDIA_TYPE', `Content-Type must be ${accepted.join(' or ')}`));
      return;
    }
    done();
  });

  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    tracing.end(request, reply.statusCode);
    observe(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
}

/**
 * A server span per request, continuing a W3C `traceparent` header when one is sent. Its context is
 * kept with the request (request-trace.ts) for the work the handler starts, so the reconcile it
 * triggers joins the trace, and the request's log lines carry its ids. A no-op while tracing is off.
 * Started first in `onRequest` (before the guards, so a refused request has its span too) and ended
 * in `onResponse`; called from the hooks above rather than hooked on its own, which would cost two
 * more hook turns on every request.
 */
interface RequestTracing {
  start(request: FastifyRequest, reply: FastifyReply): void;
  end(request: FastifyRequest, status: number): void;
}

function requestTracing(): RequestTracing {
  const spans = new WeakMap<object, Span>();
  return {
    start(request, reply) {
      // Tracing off: the span would not record, so nothing of it is built (no per-request garbage).
      if (!tracingRegistered()) return;
      const route = request.routeOptions.url ?? 'unmatched';
      const { span, context } = startSpan(`${request.method} ${route}`, {
        kind: SpanKind.SERVER,
        parent: contextFromHeaders(request.headers),
        attributes: { 'http.request.method': request.method, 'http.route': route },
      });
      if (span.isRecording()) {
        spans.set(request, span);
        setRequestTraceContext(request, context);
        request.log = request.log.child(logTraceFields(context));
        reply.log = request.log;
      }
    },
    end(request, status) {
      const span = spans.get(request);
      span?.setAttribute('http.response.status_code', status);
      span?.end();
    },
  };
}
