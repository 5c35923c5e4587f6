/**
 * Writes to a long-lived streaming response with backpressure, for the SSE event stream and the
 * log stream: `write()` reports whether the socket wants a pause, `drained()` waits for it to take
 * more, and `close()` ends that wait at once and makes later writes no-ops.
 */
import type { ServerResponse } from 'node:http';

export class StreamWriter {
  private closed = false;
  /** Ends a wait for `drain` early (closing). */
  private wakeUp: (() => void) | undefined;

  constructor(private readonly response: ServerResponse) {}

  /** False when the socket's buffer is full: wait for `drained()` before writing more. */
  write(chunk: string): boolean {
    const { response } = this;
    if (this.closed || response.writableEnded || response.destroyed) return true;
    return response.write(chunk);
  }

  drained(): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.response.off('drain', done);
        this.wakeUp = undefined;
        resolve();
      };
      this.wakeUp = done;
      this.response.once('drain', done);
    });
  }

  close(): void {
    this.closed = true;
    this.wakeUp?.();
  }
}
