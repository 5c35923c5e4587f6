/**
 * Lessor cannot start for a reason outside its configuration (the database stays unreachable, a
 * migration fails): `lessor serve` and `lessor migrate` print the message — which names what failed
 * and why — without a stack trace, and exit 1.
 */
export class StartupError extends Error {
  override readonly name = 'StartupError';
}

/**
 * The most telling text of a failure: its own message, else its cause's; the messages of an
 * AggregateError's parts (a host name resolving to several addresses, each refused) joined.
 */
export function failureReason(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) {
    return [...new Set(error.errors.map(failureReason))].join('; ');
  }
  if (!(error instanceof Error)) return String(error);
  const own = error.message.trim();
  const cause = error.cause === undefined ? '' : failureReason(error.cause);
  if (own === '' || /:$/.test(own)) return [own, cause].filter(Boolean).join(' ') || error.name;
  return own;
}
