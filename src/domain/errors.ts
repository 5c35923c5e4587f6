/**
 * Lessor's few error classes, sorted by what the caller should do. Each carries a stable `code`
 * (a problem code of docs/api.md, "Errors"); the API maps them to HTTP in exactly one place. Codes only the
 * HTTP layer raises (authentication, rate limits, media types …) are the API's own (`HttpProblem`).
 */
export type ProblemCode =
  | 'VALIDATION_FAILED'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'PRECONDITION_FAILED'
  | 'INVALID_TRANSITION'
  | 'UNAVAILABLE'
  | 'STORE_UNAVAILABLE'
  | 'INTERNAL';

export interface FieldProblem {
  readonly path: string;
  readonly message: string;
}

export class LessorError extends Error {
  constructor(
    readonly code: ProblemCode,
    message: string,
    readonly details: Readonly<Record<string, unknown>> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The request is wrong; retrying it unchanged will fail again. */
export class ValidationError extends LessorError {
  constructor(
    message: string,
    readonly problems: readonly FieldProblem[] = [],
  ) {
    super('VALIDATION_FAILED', message, { problems });
  }
}

export class NotFoundError extends LessorError {
  constructor(what: string, id: string) {
    super('NOT_FOUND', `${what} '${id}' not found`, { what, id });
  }
}

/** Someone else got there first (unique name, concurrent write); re-read and decide again. */
export class ConflictError extends LessorError {
  constructor(message: string, details: Readonly<Record<string, unknown>> = {}) {
    super('CONFLICT', message, details);
  }
}

/** Optimistic concurrency: the caller's version is stale. */
export class PreconditionFailedError extends LessorError {
  constructor(expectedVersion: number, actualVersion: number) {
    super('PRECONDITION_FAILED', `version ${expectedVersion} is stale; current version is ${actualVersion}`, {
      expectedVersion,
      actualVersion,
    });
  }
}

export class InvalidTransitionError extends LessorError {
  constructor(message: string, details: Readonly<Record<string, unknown>> = {}) {
    super('INVALID_TRANSITION', message, details);
  }
}

/** A dependency (database, workflow engine) cannot be reached right now; retry later. */
export class UnavailableError extends LessorError {
  constructor(message: string, options?: { cause?: unknown; code?: 'UNAVAILABLE' | 'STORE_UNAVAILABLE' }) {
    super(options?.code ?? 'UNAVAILABLE', message, {}, options);
  }
}

/**
 * The database cannot serve right now: unreachable, busy past its timeout, out of disk, read-only,
 * or failing I/O; retry later (503 `STORE_UNAVAILABLE` with `Retry-After`). The store logs each
 * incident itself (once at its start, then a count now and then, then its end), so whoever catches
 * one of these only needs to back off, not to log it loudly.
 */
export class StoreUnavailableError extends UnavailableError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, { ...options, code: 'STORE_UNAVAILABLE' });
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
