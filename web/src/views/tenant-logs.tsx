/**
 * A tenant's runtime output, live: `GET /v1/tenants/{id}/logs?follow=true` read as Server-Sent
 * Events (a `fetch` stream, so the token goes in the `Authorization` header, never in a URL). The
 * page keeps the newest `MAX_LINES` lines; the stream is closed when the user stops it or leaves
 * the view. Operators and admins only (the server refuses viewers: output may hold secrets).
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { parseSse } from '../../../src/api/client-sse.js';
import type { Problem } from '../../../src/api/types.js';
import { ErrorBox, Section } from '../components/common.js';
import { ApiError, currentToken } from '../lib/api.js';
import { appendLogLines, type LogLine } from '../live/reducer.js';

export const MAX_LINES = 500;
const TAIL = 200;

type State = 'idle' | 'connecting' | 'live' | 'ended';

async function problemOf(response: Response): Promise<ApiError> {
  const text = await response.text().catch(() => '');
  try {
    return new ApiError(response.status, JSON.parse(text) as Problem);
  } catch {
    return new ApiError(response.status, {
      type: 'about:blank',
      title: response.statusText,
      status: response.status,
      detail: text.slice(0, 300) || `the logs answered ${response.status}`,
      code: 'INTERNAL',
      instance: '',
      requestId: '',
    });
  }
}

export function TenantLogs({ tenantId }: { tenantId: string }) {
  const [state, setState] = useState<State>('idle');
  const [view, setView] = useState<{ lines: readonly LogLine[]; dropped: number }>({ lines: [], dropped: 0 });
  const [error, setError] = useState<unknown>(undefined);
  const controller = useRef<AbortController | undefined>(undefined);
  const box = useRef<HTMLPreElement>(null);

  const stop = () => {
    controller.current?.abort();
    controller.current = undefined;
  };
  // Leaving the view (or opening another tenant) closes the stream.
  useEffect(() => stop, [tenantId]);
  // Follow the bottom while the user has not scrolled up.
  useEffect(() => {
    const el = box.current;
    if (el && el.scrollHeight - el.scrollTop - el.clientHeight < 80) el.scrollTop = el.scrollHeight;
  }, [view]);

  const start = async () => {
    stop();
    const mine = new AbortController();
    controller.current = mine;
    setError(undefined);
    setView({ lines: [], dropped: 0 });
    setState('connecting');
    try {
      const headers: Record<string, string> = { accept: 'text/event-stream' };
      const token = currentToken();
      if (token) headers.authorization = `Bearer ${token}`;
      const response = await fetch(
        `/v1/tenants/${encodeURIComponent(tenantId)}/logs?follow=true&tail=${TAIL}`,
        { headers, signal: mine.signal, cache: 'no-store' },
      );
      if (!response.ok || !response.body) throw await problemOf(response);
      setState('live');
      let batch: LogLine[] = [];
      let scheduled = false;
      // Lines arrive in bursts: fold each burst into one render.
      const flush = () => {
        scheduled = false;
        const added = batch;
        batch = [];
        setView((v) => appendLogLines(v, added, MAX_LINES));
      };
      for await (const frame of parseSse(response.body)) {
        if (frame.event === 'error') {
          const { code, message } = JSON.parse(frame.data) as { code: string; message: string };
          setError(new Error(`${code}: ${message}`));
          continue;
        }
        if (frame.event !== 'log') continue;
        batch.push(JSON.parse(frame.data) as LogLine);
        if (!scheduled) {
          scheduled = true;
          requestAnimationFrame(flush);
        }
      }
      if (batch.length > 0) flush();
    } catch (e) {
      if (mine.signal.aborted) return;
      setError(e);
    }
    if (controller.current === mine) controller.current = undefined;
    setState(mine.signal.aborted ? 'idle' : 'ended');
  };

  const running = state === 'connecting' || state === 'live';
  return (
    <Section
      title="Logs"
      actions={
        running ? (
          <button
            type="button"
            onClick={() => {
              stop();
              setState('idle');
            }}
          >
            Stop logs
          </button>
        ) : (
          <button type="button" onClick={() => void start()}>
            {state === 'ended' ? 'Restart live logs' : 'Show live logs'}
          </button>
        )
      }
    >
      <p class="muted" role="status" data-testid="logs-state" data-state={state}>
        {state === 'idle' && 'The runtime’s output, followed live, once started.'}
        {state === 'connecting' && 'Connecting…'}
        {state === 'live' &&
          `Following: the newest ${MAX_LINES} lines are kept${view.dropped > 0 ? ` (${view.dropped} older dropped)` : ''}.`}
        {state === 'ended' && 'The log stream ended.'}
      </p>
      <ErrorBox error={error} />
      {(view.lines.length > 0 || running) && (
        <pre
          class="code logs"
          ref={box}
          tabIndex={0}
          aria-label="Runtime output, oldest first"
          data-testid="logs"
        >
          {view.lines.map((l, i) => (
            <div key={view.dropped + i} class={l.stream === 'stderr' ? 'stderr' : undefined}>
              <span class="muted">{l.ts.slice(11, 23)}</span> {l.line}
            </div>
          ))}
        </pre>
      )}
    </Section>
  );
}
