/**
 * Whether a host names this machine only: `localhost`, 127.0.0.0/8, ::1 (bracketed or not) and
 * IPv4-mapped 127.x. A host name other than `localhost` is never taken as loopback (it could resolve
 * anywhere). Used where exposure beyond the machine needs more care (authentication, signing, TLS).
 */
import { isIP } from 'node:net';

export function isLoopback(host: string): boolean {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (bare === 'localhost') return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  if (isIP(bare) === 6) return bare === '::1' || /^::ffff:127\./i.test(bare);
  return false;
}
