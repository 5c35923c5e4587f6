/**
 * The subset of Restate's HTTP APIs that Lessor uses: the admin API (health, deployments, SQL
 * introspection, invocation cancel/resume) and the ingress (submit a workflow run, call its shared
 * `resolve` handler). No SDK here — plain HTTP/1.1 over kept-alive connections (`node:http`: a
 * fraction of `fetch`'s CPU per call, which counts twice per run), each call bounded by a timeout.
 *
 * Every failure to reach Restate, and every answer a caller did not declare as expected, is an
 * `UnavailableError` (retry later) carrying the HTTP status and Restate's error code when known.
 */
import http from 'node:http';
import https from 'node:https';
import { UnavailableError } from '../../domain/errors.js';

export class RestateCallError extends UnavailableError {
  constructor(
    message: string,
    readonly status: number | null,
    readonly restateCode: string | null,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

interface Answer {
  readonly status: number;
  readonly body: unknown;
}

/** A raw answer: its status and body text. */
interface Exchange {
  readonly status: number;
  readonly text: string;
}

export interface SubmitResult {
  readonly invocationId: string;
  /** `Accepted` for a new run; `PreviouslyAccepted` when the workflow key already had one. */
  readonly status: string;
}

export class RestateHttp {
  /** Kept-alive connections: a call does not pay for a TCP handshake (idle sockets are unref'd). */
  private readonly agent = new http.Agent({ keepAlive: true });
  private readonly tlsAgent = new https.Agent({ keepAlive: true });

  constructor(
    private readonly adminUrl: string,
    private readonly ingressUrl: string,
    private readonly timeoutMs: number,
  ) {}

  async health(): Promise<void> {
    await this.call('admin', 'GET', '/health', undefined, [200]);
  }

  /** Registers (or, with `force`, re-registers in place) the deployment at `uri`; returns its id. */
  async registerDeployment(uri: string): Promise<string> {
    const answer = await this.call('admin', 'POST', '/deployments', { uri, force: true }, [200, 201]);
    return text((answer.body as { id?: unknown } | null)?.id);
  }

  /** Submits the workflow `run` handler for `key`; idempotent on the key (the workflow id). */
  async submitRun(service: string, key: string, input: unknown): Promise<SubmitResult> {
    const answer = await this.call(
      'ingress',
      'POST',
      `/${enc(service)}/${enc(key)}/run/send`,
      input,
      [200, 202],
    );
    const body = (answer.body ?? {}) as { invocationId?: unknown; status?: unknown };
    return { invocationId: text(body.invocationId), status: text(body.status) };
  }

  /**
   * Sends an invocation of a shared handler of the workflow `key` without waiting for it: answered
   * once Restate has it in its log, from where it runs (and is retried) whatever happens to the caller.
   */
  async sendShared(service: string, key: string, handler: string, input: unknown): Promise<SubmitResult> {
    const answer = await this.call(
      'ingress',
      'POST',
      `/${enc(service)}/${enc(key)}/${enc(handler)}/send`,
      input,
      [200, 202],
    );
    const body = (answer.body ?? {}) as { invocationId?: unknown; status?: unknown };
    return { invocationId: text(body.invocationId), status: text(body.status) };
  }

  /** Calls a shared handler of the workflow `key` and returns its JSON output. */
  async callShared(service: string, key: string, handler: string, input: unknown): Promise<unknown> {
    return (await this.call('ingress', 'POST', `/${enc(service)}/${enc(key)}/${enc(handler)}`, input, [200]))
      .body;
  }

  /** Rows of a SQL query over Restate's introspection tables (`sys_invocation`, …). */
  async query<T>(sql: string): Promise<readonly T[]> {
    const answer = await this.call('admin', 'POST', '/query', { query: sql }, [200]);
    return (answer.body as { rows?: T[] } | null)?.rows ?? [];
  }

  /** Asks Restate to cancel an invocation; false when it is unknown or already completed. */
  async cancelInvocation(invocationId: string): Promise<boolean> {
    const answer = await this.call(
      'admin',
      'PATCH',
      `/invocations/${enc(invocationId)}/cancel`,
      undefined,
      [200, 202, 404, 409],
    );
    return answer.status < 300;
  }

  /** Resumes a paused invocation; false when it is unknown or not paused. */
  async resumeInvocation(invocationId: string): Promise<boolean> {
    const answer = await this.call(
      'admin',
      'PATCH',
      `/invocations/${enc(invocationId)}/resume`,
      undefined,
      [200, 202, 404, 409],
    );
    return answer.status < 300;
  }

  /** Closes the idle kept-alive connections (they never hold the process alive meanwhile). */
  close(): void {
    this.agent.destroy();
    this.tlsAgent.destroy();
  }

  private async call(
    api: 'admin' | 'ingress',
    method: string,
    path: string,
    body: unknown,
    expected: readonly number[],
  ): Promise<Answer> {
    const url = `${api === 'admin' ? this.adminUrl : this.ingressUrl}${path}`;
    let answer: Exchange;
    try {
      answer = await this.exchange(method, url, body === undefined ? undefined : JSON.stringify(body));
    } catch (error) {
      throw new RestateCallError(
        `restate ${api} unreachable: ${method} ${url}: ${describe(error)}`,
        null,
        null,
        { cause: error },
      );
    }
    const parsed = parseJson(answer.text);
    if (expected.includes(answer.status)) return { status: answer.status, body: parsed };
    const { message, code } = errorFields(parsed);
    throw new RestateCallError(
      `restate ${api} answered ${answer.status} to ${method} ${path}: ${message}`,
      answer.status,
      code,
    );
  }

  /**
   * One request over a kept-alive connection. Every call of this API is idempotent, so a request
   * that failed on a reused connection the server had just closed is sent once more on a new one.
   */
  private async exchange(method: string, url: string, body: string | undefined): Promise<Exchange> {
    try {
      return await this.request(method, url, body);
    } catch (error) {
      if (!(error instanceof StaleConnectionError)) throw error;
      return this.request(method, url, body);
    }
  }

  private request(method: string, url: string, body: string | undefined): Promise<Exchange> {
    const target = new URL(url);
    const client = target.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const request = client.request(target, {
        method,
        agent: target.protocol === 'https:' ? this.tlsAgent : this.agent,
        headers: {
          accept: 'application/json',
          ...(body !== undefined && {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
          }),
        },
      });
      const timer = setTimeout(
        () => request.destroy(new Error(`no answer within ${this.timeoutMs} ms`)),
        this.timeoutMs,
      );
      request.once('error', (error) => {
        clearTimeout(timer);
        const stale = request.reusedSocket && (error as NodeJS.ErrnoException).code === 'ECONNRESET';
        reject(stale ? new StaleConnectionError(error) : error);
      });
      request.once('response', (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.once('error', (error) => {
          clearTimeout(timer);
          reject(error);
        });
        response.once('end', () => {
          clearTimeout(timer);
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: response.statusCode ?? 0, text });
        });
      });
      request.end(body);
    });
  }
}

/** A kept-alive connection the server closed just as a request went out on it. */
class StaleConnectionError extends Error {
  constructor(cause: Error) {
    super(cause.message, { cause });
    this.name = 'StaleConnectionError';
  }
}

function enc(segment: string): string {
  return encodeURIComponent(segment);
}

function parseJson(text: string): unknown {
  if (text === '') return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function errorFields(body: unknown): { message: string; code: string | null } {
  if (typeof body !== 'object' || body === null) return { message: text(body), code: null };
  const record = body as Record<string, unknown>;
  const code = text(record.restate_code ?? record.code);
  return {
    message: typeof record.message === 'string' ? record.message : JSON.stringify(body),
    code: code === '' ? null : code,
  };
}

/** A string or number field as text; anything else (absent, objects) as ''. */
function text(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' ? String(value) : '';
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { cause?: unknown }).cause;
  return cause instanceof Error ? `${error.message} (${cause.message})` : error.message;
}
