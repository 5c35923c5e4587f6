/**
 * The ONE place where errors become HTTP responses: RFC 9457 `application/problem+json` with a
 * stable `code`. Everything the API throws is a `LessorError` (domain, store, compute) or an
 * `HttpProblem` (made here by `httpError`: HTTP-only codes, status and header specifics); fastify's own errors (bad JSON, body too large, wrong media type, schema
 * validation) and database connection failures are normalised here too. Anything else is a bug:
 * 500 INTERNAL with a generic detail, logged with its stack.
 */
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { LessorError, ValidationError, type FieldProblem } from '../domain/errors.js';
import type { ApiProblemCode } from './problem-codes.js';
import type { Problem } from './types.js';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** What a 503 tells a client to wait before retrying (seconds). */
const RETRY_AFTER_SECONDS = '5';

const STATUS: Readonly<Record<ApiProblemCode, number>> = {
  VALIDATION_FAILED: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  MISDIRECTED_REQUEST: 421,
  NOT_FOUND: 404,
  CONFLICT: 409,
  INVALID_TRANSITION: 409,
  PRECONDITION_FAILED: 412,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  UNAVAILABLE: 503,
  STORE_UNAVAILABLE: 503,
};

const TITLE: Readonly<Record<ApiProblemCode, string>> = {
  VALIDATION_FAILED: 'Request validation failed',
  UNAUTHORIZED: 'Authentication required',
  FORBIDDEN: 'Not allowed',
  MISDIRECTED_REQUEST: 'Misdirected request',
  NOT_FOUND: 'Not found',
  CONFLICT: 'Conflict',
  INVALID_TRANSITION: 'Invalid phase transition',
  PRECONDITION_FAILED: 'Precondition failed',
  PAYLOAD_TOO_LARGE: 'Payload too large',
  UNSUPPORTED_MEDIA_TYPE: 'Unsupported media type',
  RATE_LIMITED: 'Too many requests',
  INTERNAL: 'Internal error',
  UNAVAILABLE: 'Service unavailable',
  STORE_UNAVAILABLE: 'Storage unavailable',
};

export interface HttpErrorOptions {
  /** Status other than the code's default (422 for a reused idempotency key). */
  readonly status?: number;
  /** Problem `type` other than the code's (`urn:lessor:problem:<code>`). */
  readonly type?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly problems?: readonly FieldProblem[];
}

/** A problem raised by the HTTP layer itself, with its HTTP specifics (status override, headers). */
export class HttpProblem extends Error {
  override readonly name = 'HttpProblem';

  constructor(
    readonly code: ApiProblemCode,
    message: string,
    readonly options: HttpErrorOptions = {},
  ) {
    super(message);
  }
}

export function httpError(
  code: ApiProblemCode,
  message: string,
  options: HttpErrorOptions = {},
): HttpProblem {
  return new HttpProblem(code, message, options);
}

export interface ProblemResponse {
  readonly status: number;
  readonly body: Problem;
  readonly headers: Readonly<Record<string, string>>;
}

interface Normalised {
  readonly code: ApiProblemCode;
  readonly detail: string;
  readonly options: HttpErrorOptions;
}

/** Maps any thrown value to the problem response it deserves. */
export function toProblem(error: unknown, request: Pick<FastifyRequest, 'id' | 'url'>): ProblemResponse {
  const { code, detail, options } = normalise(error);
  const status = options.status ?? STATUS[code];
  const problems = options.problems ?? [];
  const body: Problem = {
    type: options.type ?? `urn:lessor:problem:${code.toLowerCase().replace(/_/g, '-')}`,
    title: TITLE[code],
    status,
    detail,
    code,
    instance: request.url.length > 512 ? request.url.slice(0, 512) : request.url,
    requestId: String(request.id),
    ...(problems.length > 0 && { errors: problems.map((p) => ({ path: p.path, message: p.message })) }),
  };
  return { status, body, headers: { ...defaultHeaders(code), ...options.headers } };
}

function defaultHeaders(code: ApiProblemCode): Record<string, string> {
  if (code === 'UNAUTHORIZED') return { 'www-authenticate': 'Bearer realm="lessor"' };
  if (code === 'UNAVAILABLE' || code === 'STORE_UNAVAILABLE') return { 'retry-after': RETRY_AFTER_SECONDS };
  return {};
}

function normalise(error: unknown): Normalised {
  if (error instanceof HttpProblem)
    return { code: error.code, detail: error.message, options: error.options };
  if (error instanceof LessorError) return fromLessorError(error);
  const fastifyError = error as Partial<FastifyError> | null;
  if (fastifyError && Array.isArray(fastifyError.validation))
    return fromValidation(fastifyError as FastifyError);
  if (isUnavailable(error))
    return { code: 'UNAVAILABLE', detail: 'a dependency is unavailable; retry later', options: {} };
  const status = typeof fastifyError?.statusCode === 'number' ? fastifyError.statusCode : 500;
  if (status >= 400 && status < 500) return fromClientStatus(status, fastifyError?.message ?? 'bad request');
  return { code: 'INTERNAL', detail: 'internal error', options: {} };
}

function fromLessorError(error: LessorError): Normalised {
  const problems = error instanceof ValidationError ? error.problems : [];
  const detail = error.code === 'INTERNAL' ? 'internal error' : error.message;
  return { code: error.code, detail, options: { problems } };
}

function fromClientStatus(status: number, message: string): Normalised {
  const byStatus: Partial<Record<number, ApiProblemCode>> = {
    401: 'UNAUTHORIZED',
    403: 'FORBIDDEN',
    404: 'NOT_FOUND',
    413: 'PAYLOAD_TOO_LARGE',
    415: 'UNSUPPORTED_MEDIA_TYPE',
    429: 'RATE_LIMITED',
  };
  const code = byStatus[status] ?? 'VALIDATION_FAILED';
  return { code, detail: message, options: { status } };
}

function fromValidation(error: FastifyError): Normalised {
  const where = error.validationContext ?? 'body';
  const problems = (error.validation ?? []).flatMap((issue) => {
    const base = pointerToPath(issue.instancePath, where);
    const keys = (issue.params as { keys?: unknown }).keys;
    if (issue.keyword === 'unrecognized_keys' && Array.isArray(keys)) {
      return keys.map((key) => ({ path: joinPath(base, String(key)), message: 'unknown field' }));
    }
    return [{ path: base || where, message: issue.message ?? 'invalid' }];
  });
  const first = problems[0];
  const detail = first ? `${first.path}: ${first.message}` : 'the request is not valid';
  return { code: 'VALIDATION_FAILED', detail, options: { problems } };
}

/** `/spec/config/0` in the body → `spec.config.0`; in the query → `query.limit`. */
function pointerToPath(pointer: string, where: string): string {
  const parts = pointer.split('/').filter((p) => p !== '');
  const prefix = where === 'body' ? [] : [where === 'querystring' ? 'query' : where];
  return [...prefix, ...parts].join('.');
}

function joinPath(base: string, key: string): string {
  return base === '' ? key : `${base}.${key}`;
}

const UNAVAILABLE_ERRNO = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
]);

/** Connection failures that escaped the store's own mapping: pg SQLSTATE 08/53/57, socket errnos, busy SQLite. */
function isUnavailable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return false;
  if (UNAVAILABLE_ERRNO.has(code) || /^SQLITE_(BUSY|LOCKED|CANTOPEN)/.test(code)) return true;
  return /^(08|53|57)[0-9A-Z]{3}$/.test(code);
}

export function sendProblem(reply: FastifyReply, problem: ProblemResponse): FastifyReply {
  return reply
    .code(problem.status)
    .header('x-request-id', problem.body.requestId)
    .headers(problem.headers)
    .type(PROBLEM_CONTENT_TYPE)
    .send(Buffer.from(JSON.stringify(problem.body), 'utf8'));
}

/** Error handler, not-found handler and framework-error handler all end here. */
export function replyWithProblem(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const problem = toProblem(error, request);
  const { code } = problem.body;
  // A storage incident is logged by the store, once (store-incidents.ts); not once per refused request.
  if (code === 'STORE_UNAVAILABLE') request.log.debug({ code, status: problem.status }, problem.body.detail);
  else if (problem.status >= 500) request.log.error({ err: error, code }, 'request failed');
  else request.log.info({ code, status: problem.status }, problem.body.detail);
  return sendProblem(reply, problem);
}

/**
 * Requests node's HTTP parser rejects before fastify sees them (bad Content-Length, header overflow,
 * request timeout) are answered as problem+json too, then the connection is closed.
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const status =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : error.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
  const detail = status === 408 ? 'the request was not received in time' : 'malformed HTTP request';
  const problem = toProblem(httpError('VALIDATION_FAILED', detail, { status }), {
    id: randomUUID(),
    url: '',
  });
  const body = JSON.stringify(problem.body);
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nX-Request-Id: ${problem.body.requestId}\r\n` +
        `Connection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}
