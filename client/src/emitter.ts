/** A listener; what it returns is ignored. */
export type Handler<T> = (payload: T) => void;

/**
 * A small typed event emitter. `on` returns the function that unsubscribes. A handler that
 * throws is reported to `onError` and does not keep the other handlers from running.
 *
 * @example
 * const e = new Emitter<{ tick: number }>();
 * const off = e.on('tick', (n) => console.log(n));
 * e.emit('tick', 1);
 * off();
 */
export class Emitter<Events extends object> {
  private readonly handlers = new Map<keyof Events, Set<Handler<never>>>();

  constructor(private readonly onError: (err: unknown) => void = defaultOnError) {}

  /** Calls `handler` for every `type` event until the returned function is called. */
  on<K extends keyof Events>(type: K, handler: Handler<Events[K]>): () => void {
    let set = this.handlers.get(type);
    if (!set) this.handlers.set(type, (set = new Set()));
    set.add(handler);
    return () => {
      set.delete(handler);
    };
  }

  /** Calls `handler` for the next `type` event only. */
  once<K extends keyof Events>(type: K, handler: Handler<Events[K]>): () => void {
    const off = this.on(type, (payload) => {
      off();
      handler(payload);
    });
    return off;
  }

  emit<K extends keyof Events>(type: K, payload: Events[K]): void {
    const set = this.handlers.get(type);
    if (!set) return;
    // A copy, so a handler that unsubscribes (or subscribes) does not disturb this round.
    for (const handler of [...set] as Handler<Events[K]>[]) {
      try {
        handler(payload);
      } catch (err) {
        this.onError(err);
      }
    }
  }

  /** Whether anything listens to `type`. */
  has(type: keyof Events): boolean {
    return (this.handlers.get(type)?.size ?? 0) > 0;
  }

  clear(): void {
    this.handlers.clear();
  }
}

function defaultOnError(err: unknown): void {
  console.error('parley: an event handler threw', err);
}
