/**
 * Tracing of the local bus: when each hop of an event happened (published → in a queue → received
 * by a function's poller → its batch done), for the bench's start-to-live breakdown and for
 * diagnostics. Off unless someone listens (`LocalEventBus.onTrace`): every call site checks
 * `active` first, so a bus nobody traces builds no trace object. Times are `performance.now()`
 * milliseconds; bodies are never part of a trace (the event's detail is, as PutEvents was given it:
 * domain events carry no secret, ADR 0002).
 */
import type { BusTrace } from './types.ts';

export class BusTracer {
  readonly #listeners = new Set<(t: BusTrace) => void>();

  /** Whether anyone listens (check before building a trace). */
  get active(): boolean {
    return this.#listeners.size > 0;
  }

  emit(t: BusTrace): void {
    for (const l of this.#listeners) {
      try {
        l(t);
      } catch {
        // a listener's failure is its own: the bus carries on
      }
    }
  }

  listen(listener: (t: BusTrace) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
