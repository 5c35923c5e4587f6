/** What a run's durable context needs from its engine (kept apart so the context's parts share it). */
import type { ResolvedOptions, EmbeddedStore } from './options.js';
import type { WaitCounter } from './run-handle.js';
import type { RunWriter } from './run-writer.js';

export interface ContextServices {
  readonly store: EmbeddedStore;
  readonly writer: RunWriter;
  readonly options: ResolvedOptions;
  readonly ownerId: string;
  readonly counter: WaitCounter;
  /** Asks the scheduler to look for due runs now. */
  kick(): void;
  /** True once `close` stopped waiting for this process's runs: nothing more may be written. */
  closed(): boolean;
}
