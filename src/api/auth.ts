/**
 * Bearer-token authentication and role checks (docs/api.md, "Authentication and roles"). Tokens are
 * configured as SHA-256 hashes; a presented token is hashed and compared with every configured hash in
 * constant time. Roles: `admin` (everything), `operator` (read + tenant writes), `viewer` (read). Each route
 * says what it needs in `config.access`; routes without one need `read`.
 *
 * With no token configured, authentication is off and every caller is the admin `anonymous`: the
 * configuration refuses any other bind address then (`server.host`, checked when it is loaded).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { httpError } from './problem.js';

export { isLoopback } from '../domain/loopback.js';

export type Role = 'admin' | 'operator' | 'viewer';
/**
 * `open`: no token needed (health, metrics, docs). `identify`: no token needed, but a token that is
 * sent is checked like on any other route (401 when wrong, counted by the failure brake).
 */
export type Access = 'open' | 'identify' | 'read' | 'write' | 'admin';

export interface TokenConfig {
  readonly name: string;
  readonly role: Role;
  /** Hex SHA-256 of the token. */
  readonly sha256: string;
}

export interface Principal {
  readonly name: string;
  readonly role: Role;
  readonly authenticated: boolean;
}

/** The caller when authentication is off (no token configured): loopback only, so admin. */
export const ANONYMOUS: Principal = { name: 'anonymous', role: 'admin', authenticated: false };
/** The caller of an open route (health, metrics, docs) when tokens are configured. */
const UNAUTHENTICATED: Principal = { name: 'anonymous', role: 'viewer', authenticated: false };

const GRANTS: Readonly<Record<Role, readonly Access[]>> = {
  admin: ['open', 'identify', 'read', 'write', 'admin'],
  operator: ['open', 'identify', 'read', 'write'],
  viewer: ['open', 'identify', 'read'],
};

export type Grant = Exclude<Access, 'open' | 'identify'>;

/** What `role` may do beyond open routes, lowest first (for `GET /v1/whoami`). */
export function grantsOf(role: Role): Grant[] {
  return GRANTS[role].filter((access): access is Grant => access !== 'open' && access !== 'identify');
}

/** The caller of an `identify` route that sent no token to a server with tokens. */
export function isUnidentified(principal: Principal, tokensConfigured: boolean): boolean {
  return tokensConfigured && !principal.authenticated;
}

/** The roles whose tokens may call a route of `access` (for the OpenAPI document). */
export function rolesFor(access: Access): Role[] {
  return (Object.keys(GRANTS) as Role[]).filter((role) => GRANTS[role].includes(access));
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

interface CompiledToken {
  readonly name: string;
  readonly role: Role;
  readonly digest: Buffer;
}

export type Authenticator = (request: FastifyRequest, access: Access) => Principal;

export function createAuthenticator(tokens: readonly TokenConfig[]): Authenticator {
  const compiled = tokens.map(compileToken);
  return (request, access) => {
    if (access === 'open') return compiled.length === 0 ? ANONYMOUS : UNAUTHENTICATED;
    if (access === 'identify' && compiled.length > 0 && request.headers.authorization === undefined) {
      return UNAUTHENTICATED;
    }
    const principal = compiled.length === 0 ? ANONYMOUS : identify(request, compiled);
    if (!GRANTS[principal.role].includes(access)) {
      throw httpError('FORBIDDEN', `role '${principal.role}' may not ${describe(access)}`);
    }
    return principal;
  };
}

function compileToken(token: TokenConfig): CompiledToken {
  if (!/^[0-9a-fA-F]{64}$/.test(token.sha256)) {
    throw new TypeError(`token '${token.name}': sha256 must be 64 hex characters`);
  }
  if (!(token.role in GRANTS))
    throw new TypeError(`token '${token.name}': unknown role '${String(token.role)}'`);
  return { name: token.name, role: token.role, digest: Buffer.from(token.sha256.toLowerCase(), 'hex') };
}

function identify(request: FastifyRequest, tokens: readonly CompiledToken[]): Principal {
  const header = request.headers.authorization;
  const match = typeof header === 'string' ? /^Bearer +([\x21-\x7e]{1,4096}) *$/i.exec(header) : null;
  if (!match) throw httpError('UNAUTHORIZED', 'a bearer token is required (Authorization: Bearer <token>)');
  const presented = createHash('sha256').update(match[1]!, 'utf8').digest();
  let found: CompiledToken | undefined;
  // Compare with every configured hash, without stopping early, so timing tells nothing.
  for (const token of tokens) {
    if (timingSafeEqual(presented, token.digest) && found === undefined) found = token;
  }
  if (!found) throw httpError('UNAUTHORIZED', 'the bearer token is not valid');
  return { name: found.name, role: found.role, authenticated: true };
}

function describe(access: Access): string {
  if (access === 'write') return 'change tenants';
  if (access === 'admin') return 'perform admin operations';
  return 'read';
}
