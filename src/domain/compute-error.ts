/**
 * `ComputeError` (docs/architecture.md, "Compute", has the codes and classifications): the one shape every
 * provider failure takes. The classification tells the workflow what to do by default; the retry policy may
 * override it per code.
 */
export const COMPUTE_ERROR_CODES = [
  'INVALID_CONFIG',
  'NOT_FOUND',
  'PERMISSION_DENIED',
  'QUOTA_EXCEEDED',
  'CONFLICT',
  'RATE_LIMITED',
  'PROVIDER_TEMPORARILY_UNAVAILABLE',
  'PROVIDER_TIMEOUT',
  'IMAGE_UNAVAILABLE',
  'HEALTH_CHECK_FAILED',
  'PARTIAL_FAILURE',
  'INTERNAL',
] as const;
export type ComputeErrorCode = (typeof COMPUTE_ERROR_CODES)[number];

export type ErrorClassification = 'retriable' | 'non_retriable' | 'manual_intervention';

export const DEFAULT_CLASSIFICATION: Readonly<Record<ComputeErrorCode, ErrorClassification>> = {
  INVALID_CONFIG: 'non_retriable',
  NOT_FOUND: 'non_retriable',
  PERMISSION_DENIED: 'manual_intervention',
  QUOTA_EXCEEDED: 'manual_intervention',
  CONFLICT: 'retriable',
  RATE_LIMITED: 'retriable',
  PROVIDER_TEMPORARILY_UNAVAILABLE: 'retriable',
  PROVIDER_TIMEOUT: 'retriable',
  IMAGE_UNAVAILABLE: 'non_retriable',
  HEALTH_CHECK_FAILED: 'retriable',
  PARTIAL_FAILURE: 'retriable',
  INTERNAL: 'manual_intervention',
};

/** What a partially failed operation did and did not manage, so it can be resumed or rolled back. */
export interface PartialOutcome {
  readonly succeeded: readonly string[];
  readonly failed: readonly string[];
  /** Engine ids of what was created before the failure (rollback deletes these). */
  readonly resources?: Readonly<Record<string, string>>;
}

/** The serialisable form, as stored on executions, callbacks and `status.lastError`. */
export interface ComputeErrorShape {
  readonly code: ComputeErrorCode;
  readonly message: string;
  readonly classification: ErrorClassification;
  readonly retryAfterMs?: number;
  readonly partial?: PartialOutcome;
  readonly providerError?: unknown;
}

export class ComputeError extends Error implements ComputeErrorShape {
  readonly code: ComputeErrorCode;
  readonly classification: ErrorClassification;
  readonly retryAfterMs?: number;
  readonly partial?: PartialOutcome;
  readonly providerError?: unknown;

  constructor(
    code: ComputeErrorCode,
    message: string,
    options: {
      classification?: ErrorClassification;
      retryAfterMs?: number;
      partial?: PartialOutcome;
      providerError?: unknown;
      cause?: unknown;
    } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'ComputeError';
    this.code = code;
    this.classification = options.classification ?? DEFAULT_CLASSIFICATION[code];
    if (options.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
    if (options.partial !== undefined) this.partial = options.partial;
    if (options.providerError !== undefined) this.providerError = options.providerError;
  }

  toJSON(): ComputeErrorShape {
    return {
      code: this.code,
      message: this.message,
      classification: this.classification,
      ...(this.retryAfterMs !== undefined && { retryAfterMs: this.retryAfterMs }),
      ...(this.partial !== undefined && { partial: this.partial }),
      ...(this.providerError !== undefined && { providerError: this.providerError }),
    };
  }

  static fromShape(shape: ComputeErrorShape): ComputeError {
    return new ComputeError(shape.code, shape.message, shape);
  }
}

export function isComputeErrorCode(value: unknown): value is ComputeErrorCode {
  return typeof value === 'string' && (COMPUTE_ERROR_CODES as readonly string[]).includes(value);
}
