/**
 * Problem codes as the API knows them: the domain's (`ProblemCode`, carried by `LessorError`) and
 * the codes only the HTTP layer raises (`HttpProblem`). No fastify here: the typed client loads it.
 */
import type { ProblemCode } from '../domain/errors.js';

/** Codes only the HTTP layer raises: the domain knows nothing of authentication or media types. */
export type HttpProblemCode =
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'MISDIRECTED_REQUEST'
  | 'PAYLOAD_TOO_LARGE'
  | 'RATE_LIMITED'
  | 'UNSUPPORTED_MEDIA_TYPE';

/** Every code a problem response may carry. */
export type ApiProblemCode = ProblemCode | HttpProblemCode;
