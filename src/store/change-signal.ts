/**
 * Tells listeners in this process that a write committed something they watch, so they act at once
 * instead of on their next poll: `events` — tenant events were appended (the event feed reads the
 * log); `callbacks` — a callback outbox row was written (`subscribeCallbacks` also hands over the
 * rows themselves, which the callback dispatcher delivers); `webhooks` — a webhook delivery was
 * queued (the webhook dispatcher drains). The tables are the truth and every listener also polls
 * (other replicas' writes arrive that way): the signal is only about latency, so it is told after
 * the commit and never for a write that failed.
 */
import type { CallbackRecord } from '../domain/compute-callback.js';

export type StoreChange = 'events' | 'callbacks' | 'webhooks';

export type ChangeListener = () => void;

/** Told the callback rows a commit wrote, as they were inserted (state `pending`, no attempts). */
export type CallbackListener = (callbacks: readonly CallbackRecord[]) => void;

/** The listeners' side of the signal (what `Store.changes` offers). */
export interface ChangeSubscriptions {
  subscribe(change: StoreChange, listener: ChangeListener): () => void;
  /**
   * Calls `listener` after each commit that wrote callback outbox rows, with those rows: the
   * callback dispatcher delivers them without reading them back (docs/architecture.md, "Callbacks
   * and the event stream"). Like every signal, only this process's writes, and only a hint: a
   * crash right after the commit loses it, and the row is then found by the dispatcher's poll.
   */
  subscribeCallbacks(listener: CallbackListener): () => void;
}

export class ChangeSignal implements ChangeSubscriptions {
  private readonly listeners = new Map<StoreChange, Set<ChangeListener>>();
  private readonly callbackListeners = new Set<CallbackListener>();

  /** Calls `listener` after each commit that changed `change`; returns the unsubscribe. */
  subscribe(change: StoreChange, listener: ChangeListener): () => void {
    let set = this.listeners.get(change);
    if (!set) this.listeners.set(change, (set = new Set()));
    // A wrapper per subscription: the same function subscribed twice is told twice, and each
    // unsubscribe removes its own.
    const entry: ChangeListener = () => listener();
    set.add(entry);
    return () => void set.delete(entry);
  }

  subscribeCallbacks(listener: CallbackListener): () => void {
    const entry: CallbackListener = (callbacks) => listener(callbacks);
    this.callbackListeners.add(entry);
    return () => void this.callbackListeners.delete(entry);
  }

  /** Called by the store after a commit that wrote `callbacks`; listeners as for `notify`. */
  handOff(callbacks: readonly CallbackRecord[]): void {
    for (const listener of this.callbackListeners) {
      try {
        listener(callbacks);
      } catch (error) {
        process.emitWarning(`a store callback listener threw: ${String(error)}`);
      }
    }
  }

  /**
   * Called by the store after a commit. Listeners are cheap and must not throw (they schedule
   * work); one that does is reported as a process warning, and the others are still told, since
   * the write it follows has committed.
   */
  notify(changes: Iterable<StoreChange>): void {
    for (const change of new Set(changes)) {
      for (const listener of this.listeners.get(change) ?? []) {
        try {
          listener();
        } catch (error) {
          process.emitWarning(`a store change listener (${change}) threw: ${String(error)}`);
        }
      }
    }
  }
}
