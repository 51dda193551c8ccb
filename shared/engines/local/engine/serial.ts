/**
 * Runs async operations one at a time, in call order: a channel's start/stop/update/delete, or the
 * engine's encoder bookkeeping, must never interleave. A failed operation does not block the next.
 */
export class Serial {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.#tail.then(fn, fn);
    this.#tail = next.catch(() => undefined);
    return next;
  }
}
