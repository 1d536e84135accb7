/**
 * Group commit for the stores' `transaction()`: units of work that arrive while a transaction
 * is running wait and then commit together, in one database transaction, in arrival order.
 * Each unit runs inside its own savepoint, so one that throws is rolled back and rejected
 * alone while the others still commit; each caller is settled only after the commit, with its
 * own result or error. One batch runs at a time per store instance (a single writer lane):
 * the database then sees one commit per batch instead of one per write.
 */

/** One open database transaction, as a store drives it. */
export interface BatchTransaction<View> {
  /** What a unit of work reads and writes through (the store bound to this transaction). */
  readonly view: View;
  /** Starts the transaction; with `savepoints`, units are isolated from one another. */
  begin(savepoints: boolean): Promise<void>;
  savepoint(): Promise<void>;
  release(): Promise<void>;
  rollbackToSavepoint(): Promise<void>;
  commit(): Promise<void>;
  /** Rolls back whatever is open and frees the connection (destroying it if it cannot roll back). Never throws. */
  abort(): Promise<void>;
}

export interface GroupCommitOptions<View> {
  /** Opens a transaction (takes a connection). */
  open(): Promise<BatchTransaction<View>>;
  /** Most units in one batch. */
  maxBatch: number;
  /** A unit that failed this way is run again in a later batch (deadlocks, serialization failures). */
  retryable?(error: unknown): boolean;
  /** How many times a unit runs at most. */
  maxAttempts?: number;
  /** Turns driver errors into the port's errors (e.g. `unavailable`). */
  translate?(error: unknown): unknown;
}

interface Unit<View> {
  work: (view: View) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  attempts: number;
}

export class GroupCommit<View> {
  private readonly waiting: Unit<View>[] = [];
  private running = false;

  constructor(private readonly o: GroupCommitOptions<View>) {}

  /** Runs `work` in the next batch; settles once that batch has committed (or failed). */
  run<T>(work: (view: View) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.waiting.push({ work, resolve: resolve as (value: unknown) => void, reject, attempts: 0 });
      if (!this.running) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.waiting.length > 0) await this.runBatch(this.waiting.splice(0, this.o.maxBatch));
    } finally {
      this.running = false;
    }
  }

  private fail(error: unknown): unknown {
    return this.o.translate ? this.o.translate(error) : error;
  }

  private async runBatch(batch: Unit<View>[]): Promise<void> {
    let tx: BatchTransaction<View>;
    try {
      tx = await this.o.open();
    } catch (e) {
      for (const u of batch) u.reject(this.fail(e));
      return;
    }
    // A lone unit needs no savepoint: if it fails, the whole transaction is its own.
    const isolated = batch.length > 1;
    const settle: (() => void)[] = [];
    const again: Unit<View>[] = [];
    try {
      await tx.begin(isolated);
      for (const unit of batch) {
        unit.attempts += 1;
        if (isolated) await tx.savepoint();
        try {
          const value = await unit.work(tx.view);
          if (isolated) await tx.release();
          settle.push(() => unit.resolve(value));
        } catch (e) {
          if (!isolated) throw e;
          await tx.rollbackToSavepoint();
          if (this.o.retryable?.(e) && unit.attempts < (this.o.maxAttempts ?? 1)) again.push(unit);
          else settle.push(() => unit.reject(this.fail(e)));
        }
      }
      await tx.commit();
    } catch (e) {
      // The transaction is gone (a lone unit failed, the commit failed, or the connection
      // broke): nothing of it was stored. A retryable failure runs its units again.
      await tx.abort();
      const retry = this.o.retryable?.(e) ?? false;
      for (const u of batch) {
        if (retry && u.attempts < (this.o.maxAttempts ?? 1)) this.waiting.push(u);
        else u.reject(this.fail(e));
      }
      return;
    }
    // Retried units go first in the next batch, so their order relative to later arrivals holds.
    this.waiting.unshift(...again);
    for (const s of settle) s();
  }
}
