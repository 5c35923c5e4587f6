/**
 * AWS errors → ComputeError, by structured fields only: the error `name` (the AWS error code the SDK
 * puts there, also for codes the client has no class for), then errno-style `code` of network
 * failures, then `$metadata.httpStatusCode` / `$fault`. Message text is never inspected.
 */
import { ComputeError, type ComputeErrorCode } from '../../../domain/compute-error.js';
import { errorMessage } from '../../../domain/errors.js';

interface NameRule {
  readonly code: ComputeErrorCode;
  readonly names: readonly string[];
}

/** AWS error names (ECS, STS and the SDK's own) by the code they map to. */
export const ERROR_NAME_RULES: readonly NameRule[] = [
  {
    code: 'RATE_LIMITED',
    names: [
      'ThrottlingException',
      'TooManyRequestsException',
      'Throttling',
      'ThrottledException',
      'RequestLimitExceeded',
    ],
  },
  {
    code: 'PROVIDER_TEMPORARILY_UNAVAILABLE',
    names: [
      'ServerException',
      'ServiceUnavailable',
      'ServiceUnavailableException',
      'InternalFailure',
      'InternalServerError',
      'InternalError',
      'RequestTimeout',
      'RequestTimeoutException',
      'TimeoutError',
      'NetworkingError',
      'IDPCommunicationErrorException',
    ],
  },
  {
    code: 'INVALID_CONFIG',
    names: [
      'ClientException',
      'InvalidParameterException',
      'ValidationException',
      'InvalidParameterValue',
      'PlatformTaskDefinitionIncompatibilityException',
      'PlatformUnknownException',
      'UnsupportedFeatureException',
      'MalformedPolicyDocumentException',
      'PackedPolicyTooLargeException',
    ],
  },
  {
    code: 'PERMISSION_DENIED',
    names: [
      'AccessDeniedException',
      'AccessDenied',
      'UnauthorizedOperation',
      'UnauthorizedException',
      'UnrecognizedClientException',
      'InvalidClientTokenId',
      'ExpiredToken',
      'ExpiredTokenException',
      'RequestExpired',
      'InvalidSignatureException',
      'SignatureDoesNotMatch',
      'IncompleteSignature',
      'MissingAuthenticationToken',
      'RegionDisabledException',
      'CredentialsProviderError',
    ],
  },
  {
    code: 'NOT_FOUND',
    names: [
      'ClusterNotFoundException',
      'ServiceNotFoundException',
      'ResourceNotFoundException',
      'NamespaceNotFoundException',
    ],
  },
  {
    code: 'QUOTA_EXCEEDED',
    names: ['LimitExceededException', 'AttributeLimitExceededException', 'ServiceQuotaExceededException'],
  },
  {
    // The service exists but is draining (being deleted) or busy: observe again later.
    code: 'CONFLICT',
    names: [
      'ServiceNotActiveException',
      'ResourceInUseException',
      'UpdateInProgressException',
      'ConflictException',
    ],
  },
  { code: 'PROVIDER_TIMEOUT', names: ['AbortError'] },
];

const BY_NAME: ReadonlyMap<string, ComputeErrorCode> = new Map(
  ERROR_NAME_RULES.flatMap((rule) => rule.names.map((name) => [name, rule.code] as const)),
);

/** Socket-level errno codes: the endpoint could not be reached. */
const NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNABORTED',
]);

interface AwsErrorFields {
  readonly name?: unknown;
  readonly code?: unknown;
  readonly $fault?: unknown;
  readonly $metadata?: { readonly httpStatusCode?: unknown; readonly requestId?: unknown };
}

export interface EcsErrorMappingOptions {
  readonly retryAfterMs: number;
}

export function mapEcsError(error: unknown, options: EcsErrorMappingOptions): ComputeError {
  if (error instanceof ComputeError) return error;
  const code = classify(error);
  const fields = (typeof error === 'object' && error !== null ? error : {}) as AwsErrorFields;
  const name = typeof fields.name === 'string' ? fields.name : 'Error';
  return new ComputeError(code, `ECS: ${name}: ${errorMessage(error)}`, {
    ...(code === 'RATE_LIMITED' && { retryAfterMs: options.retryAfterMs }),
    providerError: rawError(error, fields, name),
    cause: error,
  });
}

function classify(error: unknown): ComputeErrorCode {
  if (isAbort(error)) return 'PROVIDER_TIMEOUT';
  const fields = (typeof error === 'object' && error !== null ? error : {}) as AwsErrorFields;
  const byName = typeof fields.name === 'string' ? BY_NAME.get(fields.name) : undefined;
  if (byName !== undefined) return byName;
  if (typeof fields.code === 'string' && NETWORK_CODES.has(fields.code))
    return 'PROVIDER_TEMPORARILY_UNAVAILABLE';
  const status = fields.$metadata?.httpStatusCode;
  if (status === 429) return 'RATE_LIMITED';
  if (status === 401 || status === 403) return 'PERMISSION_DENIED';
  if ((typeof status === 'number' && status >= 500) || fields.$fault === 'server') {
    return 'PROVIDER_TEMPORARILY_UNAVAILABLE';
  }
  return 'INTERNAL';
}

/** The caller's AbortSignal fired (DOMException AbortError / TimeoutError), not a socket timeout. */
function isAbort(error: unknown): boolean {
  return error instanceof DOMException && (error.name === 'AbortError' || error.name === 'TimeoutError');
}

/** What is kept for debugging: structured fields and the message, no stack, no request parameters. */
function rawError(error: unknown, fields: AwsErrorFields, name: string): Record<string, unknown> {
  return {
    name,
    message: errorMessage(error),
    ...(typeof fields.code === 'string' && { code: fields.code }),
    ...(typeof fields.$fault === 'string' && { fault: fields.$fault }),
    ...(fields.$metadata?.httpStatusCode !== undefined && {
      httpStatusCode: fields.$metadata.httpStatusCode,
    }),
    ...(fields.$metadata?.requestId !== undefined && { requestId: fields.$metadata.requestId }),
  };
}
