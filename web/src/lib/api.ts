/**
 * The dashboard's API client: the same typed client the CLI uses (one method per operation, types
 * inferred from the server's zod schemas), bound to this origin and the signed-in token. Views take
 * the client from `api()`; a view for a new resource adds its operations to the typed client.
 */
import { ApiError, LessorClient } from '../../../src/api/client.js';
import type { WhoAmI } from '../../../src/api/types.js';
import { storedToken, storeToken } from './session.js';

export { ApiError };

let token: string | undefined = storedToken();
let client = makeClient(token);

function makeClient(current: string | undefined): LessorClient {
  // `fetch` is called through a wrapper: called as a method of another object it throws.
  return new LessorClient({ baseUrl: '', token: current, fetch: (input, init) => fetch(input, init) });
}

export function api(): LessorClient {
  return client;
}

export function currentToken(): string | undefined {
  return token;
}

/**
 * Who the server says the caller is with `candidate` (a wrong token: ApiError 401); the token is
 * remembered when the server accepted it. Without a token, a server that needs one answers
 * `authenticated: false` (no error): the caller must sign in.
 */
export async function signIn(candidate: string | undefined): Promise<WhoAmI> {
  const trial = makeClient(candidate);
  const me = await trial.whoAmI();
  token = candidate;
  client = trial;
  storeToken(candidate);
  return me;
}

export function signOut(): void {
  token = undefined;
  client = makeClient(undefined);
  storeToken(undefined);
}

/** A short, human message for any error a call may throw. */
export function messageOf(error: unknown): string {
  if (error instanceof ApiError) {
    const fields = error.problem.errors?.map((e) => `${e.path}: ${e.message}`) ?? [];
    return [`${error.problem.detail}`, ...fields].join('\n');
  }
  return error instanceof Error ? error.message : String(error);
}
