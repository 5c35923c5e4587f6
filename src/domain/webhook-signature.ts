/**
 * Standard Webhooks signatures: `webhook-signature` is a space-separated list of `v1,<base64
 * HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<body>">`, one per secret that signs — the
 * current one, and during a rotation's overlap the one it replaced. Secrets are `whsec_` + base64
 * of the key. Pure (`node:crypto` only computes).
 */
import { createHmac } from 'node:crypto';
import type { WebhookSecrets } from './webhook.js';

const SECRET_PREFIX = 'whsec_';

function keyOf(secret: string): Buffer {
  return Buffer.from(
    secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret,
    'base64',
  );
}

export function signatureOf(
  secret: string,
  messageId: string,
  timestampSeconds: number,
  body: string,
): string {
  const mac = createHmac('sha256', keyOf(secret)).update(`${messageId}.${timestampSeconds}.${body}`);
  return `v1,${mac.digest('base64')}`;
}

/** The secrets that sign at `now` (epoch ms): the current one, and the previous one until it expires. */
export function signingSecrets(secrets: WebhookSecrets, now: number): readonly string[] {
  const { previous, previousExpiresAt } = secrets;
  const overlap = previous !== null && previousExpiresAt !== null && now < previousExpiresAt;
  return overlap ? [secrets.current, previous] : [secrets.current];
}

/** The three Standard Webhooks headers of one attempt. */
export function webhookHeaders(
  secrets: WebhookSecrets,
  messageId: string,
  body: string,
  now: number,
): Record<'webhook-id' | 'webhook-timestamp' | 'webhook-signature', string> {
  const timestamp = Math.floor(now / 1000);
  const signatures = signingSecrets(secrets, now).map((s) => signatureOf(s, messageId, timestamp, body));
  return {
    'webhook-id': messageId,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signatures.join(' '),
  };
}
