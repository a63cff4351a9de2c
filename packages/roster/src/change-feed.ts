/** A reader of `changes()` that fell this far behind is ended with an error rather than let memory grow without bound. */
export const MAX_PENDING_CHANGES = 10_000;

/** Thrown from a `changes()` iterator whose reader fell more than MAX_PENDING_CHANGES diffs behind. */
export class RosterLagError extends Error {
  override readonly name = 'RosterLagError';
  constructor(readonly pending: number) {
    super(`The changes() reader fell ${pending} diffs behind and was ended; read faster, or call handle.snapshot() and changes() again to resume.`);
  }
}

interface Reader<T> {
  queue: T[];
  wake: (() => void) | undefined;
  ended: boolean;
  error: Error | undefined;
}

/**
 * Fan-out of the roster's diffs to any number of async iterators. Each reader has its own queue;
 * a reader ends on `break` (return) or on its signal at once, or when the feed closes (after what
 * was queued for it) — leaving no listener and no timer behind.
 */
export class ChangeFeed<T> {
  private readonly readers = new Set<Reader<T>>();
  private closed = false;

  get size(): number {
    return this.readers.size;
  }

  publish(item: T): void {
    for (const reader of this.readers) {
      if (reader.queue.length >= MAX_PENDING_CHANGES) {
        this.end(reader, new RosterLagError(reader.queue.length));
        continue;
      }
      reader.queue.push(item);
      reader.wake?.();
    }
  }

  close(): void {
    this.closed = true;
    for (const reader of this.readers) this.end(reader);
  }

  subscribe(signal?: AbortSignal): AsyncIterableIterator<T> {
    const reader: Reader<T> = { queue: [], wake: undefined, ended: false, error: undefined };
    // An aborted reader wants nothing more, not even what was queued for it (close() lets readers drain; abort does not).
    const onAbort = (): void => {
      reader.queue.length = 0;
      this.end(reader, undefined);
    };
    if (this.closed || signal?.aborted) reader.ended = true;
    else {
      this.readers.add(reader);
      signal?.addEventListener('abort', onAbort, { once: true });
    }
    const finish = (): void => {
      signal?.removeEventListener('abort', onAbort);
      this.end(reader);
    };
    const iterator: AsyncIterableIterator<T> = {
      next: async (): Promise<IteratorResult<T>> => {
        for (;;) {
          if (reader.queue.length > 0) return { value: reader.queue.shift()!, done: false };
          if (reader.error) {
            const error = reader.error;
            reader.error = undefined;
            finish();
            throw error;
          }
          if (reader.ended) {
            finish();
            return { value: undefined, done: true };
          }
          await new Promise<void>((resolve) => (reader.wake = resolve));
          reader.wake = undefined;
        }
      },
      return: (): Promise<IteratorResult<T>> => {
        reader.queue.length = 0;
        finish();
        return Promise.resolve({ value: undefined, done: true });
      },
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }

  private end(reader: Reader<T>, error?: Error): void {
    if (!this.readers.delete(reader) && reader.ended) return;
    reader.ended = true;
    if (error) {
      reader.queue.length = 0;
      reader.error = error;
    }
    reader.wake?.();
  }
}
