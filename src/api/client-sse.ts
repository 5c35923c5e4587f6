/**
 * A Server-Sent Events parser for the typed client (WHATWG HTML "event stream" format): lines end
 * with CRLF, LF or CR; `field: value` with one optional space; comments start with `:`; a blank
 * line dispatches the frame. No fastify, no Node-only APIs beyond web streams.
 */

export interface SseFrame {
  readonly id: string | undefined;
  readonly event: string;
  readonly data: string;
}

export interface SseParserState {
  /** The last `retry:` the server asked for, in ms. */
  retryMs: number | undefined;
}

/** Frames of `stream`, in order; ends when the stream ends. */
export async function* parseSse(
  stream: ReadableStream<Uint8Array>,
  state: SseParserState = { retryMs: undefined },
): AsyncGenerator<SseFrame> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let frame = emptyFrame();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      buffer += done ? decoder.decode() : decoder.decode(value, { stream: true });
      const lines = buffer.split(/\r\n|\n|\r(?!$)/);
      buffer = done ? '' : (lines.pop() ?? '');
      for (const line of lines) {
        if (line === '') {
          if (frame.data.length > 0)
            yield { id: frame.id, event: frame.event || 'message', data: frame.data.join('\n') };
          frame = { ...emptyFrame(), id: frame.id };
        } else {
          applyLine(frame, line, state);
        }
      }
      if (done) return;
    }
  } finally {
    reader.releaseLock();
  }
}

interface Building {
  id: string | undefined;
  event: string;
  data: string[];
}

function emptyFrame(): Building {
  return { id: undefined, event: '', data: [] };
}

function applyLine(frame: Building, line: string, state: SseParserState): void {
  if (line.startsWith(':')) return;
  const colon = line.indexOf(':');
  const field = colon === -1 ? line : line.slice(0, colon);
  let value = colon === -1 ? '' : line.slice(colon + 1);
  if (value.startsWith(' ')) value = value.slice(1);
  if (field === 'data') frame.data.push(value);
  else if (field === 'event') frame.event = value;
  else if (field === 'id' && !value.includes('\u0000')) frame.id = value;
  else if (field === 'retry' && /^\d+$/.test(value)) state.retryMs = Number(value);
}
