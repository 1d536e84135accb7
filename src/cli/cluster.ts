import cluster, { type Worker } from 'node:cluster';

/** What the primary logs with (a pino logger fits). */
export interface ClusterLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface ClusterOptions {
  /** How many workers to keep running (≥ 2). */
  workers: number;
  log: ClusterLog;
  /** Delay before restarting a worker that died; `crashes` counts deaths in the last minute (≥ 1). */
  restartDelayMs?: (crashes: number) => number;
  /** After a shutdown signal, how long workers get to finish before they are killed. */
  shutdownTimeoutMs?: number;
  /** Workers that die before they ever listened, in a row, after which the primary gives up. */
  maxStartupFailures?: number;
}

/** True in a process forked by `runPrimary`: it serves, the primary only supervises. */
export const isClusterWorker = (): boolean => cluster.isWorker;

const CRASH_WINDOW_MS = 60_000;
const defaultRestartDelay = (crashes: number): number => Math.min(250 * 2 ** (crashes - 1), 10_000);

/**
 * The primary of `parley serve --workers N`: forks N workers running this same command (each
 * builds the app and listens; node:cluster shares the one port between them), restarts a worker
 * that dies unexpectedly (non-zero exit or killed) after a backoff, and on SIGTERM/SIGINT passes the signal on, waits for
 * every worker to finish its in-flight requests and exit, and resolves with the exit code for
 * the primary: 0 after a clean shutdown, 1 if a worker had to be killed or kept failing to start.
 *
 * Migrations are the caller's job, before this runs, so workers start on a current schema.
 */
export function runPrimary(o: ClusterOptions): Promise<number> {
  const restartDelay = o.restartDelayMs ?? defaultRestartDelay;
  const shutdownTimeoutMs = o.shutdownTimeoutMs ?? 15_000;
  const maxStartupFailures = o.maxStartupFailures ?? 5;
  const live = new Map<Worker, { slot: number; listening: boolean }>();
  const restarts = new Set<ReturnType<typeof setTimeout>>();
  let crashes: number[] = [];
  let startupFailures = 0;
  let stopping = false;
  let exitCode = 0;

  return new Promise<number>((resolve) => {
    const finishIfDone = () => {
      if (stopping && live.size === 0 && restarts.size === 0) {
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
        resolve(exitCode);
      }
    };

    const fork = (slot: number) => {
      const worker = cluster.fork({ PARLEY_WORKER_SLOT: String(slot) });
      live.set(worker, { slot, listening: false });
    };

    const shutdown = (reason: string, code: number) => {
      if (stopping) return;
      stopping = true;
      exitCode = Math.max(exitCode, code);
      o.log.info({ reason, workers: live.size }, 'cluster: shutting down, waiting for workers to finish');
      for (const t of restarts) clearTimeout(t);
      restarts.clear();
      for (const worker of live.keys()) worker.process.kill('SIGTERM');
      const force = setTimeout(() => {
        if (live.size === 0) return;
        o.log.error({ workers: live.size }, 'cluster: workers did not finish in time; killing them');
        exitCode = 1;
        for (const worker of live.keys()) worker.process.kill('SIGKILL');
      }, shutdownTimeoutMs);
      force.unref();
      finishIfDone();
    };

    const onSignal = (signal: NodeJS.Signals) => {
      if (!stopping) {
        shutdown(signal, 0);
        return;
      }
      // A second signal: stop waiting.
      o.log.warn({ signal }, 'cluster: second signal, killing workers');
      exitCode = 1;
      for (const worker of live.keys()) worker.process.kill('SIGKILL');
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);

    cluster.on('listening', (worker, address) => {
      const entry = live.get(worker);
      if (!entry) return;
      entry.listening = true;
      startupFailures = 0;
      o.log.info({ worker: worker.id, pid: worker.process.pid, slot: entry.slot, port: address.port }, 'cluster: worker listening');
    });

    cluster.on('exit', (worker, code, signal) => {
      const entry = live.get(worker);
      if (!entry) return;
      live.delete(worker);
      if (stopping) {
        if (code !== 0) exitCode = 1;
        finishIfDone();
        return;
      }
      if (code === 0) {
        // A worker that shut down cleanly was asked to (Ctrl-C reaches the whole process group,
        // a signal sent to it alone): it is not replaced; the primary ends with the last one.
        o.log.info({ worker: worker.id, pid: worker.process.pid, slot: entry.slot }, 'cluster: worker stopped');
        if (live.size === 0) shutdown('every worker stopped', 0);
        return;
      }
      const now = Date.now();
      crashes = [...crashes.filter((t) => now - t < CRASH_WINDOW_MS), now];
      startupFailures = entry.listening ? 0 : startupFailures + 1;
      if (startupFailures >= maxStartupFailures) {
        o.log.error({ code, signal, startupFailures }, 'cluster: workers keep failing before they listen; giving up');
        shutdown('workers failing at startup', 1);
        return;
      }
      const delay = restartDelay(crashes.length);
      o.log.error({ worker: worker.id, pid: worker.process.pid, slot: entry.slot, code, signal, restartInMs: delay }, 'cluster: worker died; restarting it');
      const timer = setTimeout(() => {
        restarts.delete(timer);
        if (!stopping) fork(entry.slot);
      }, delay);
      restarts.add(timer);
    });

    o.log.info({ workers: o.workers }, 'cluster: starting workers');
    for (let slot = 0; slot < o.workers; slot++) fork(slot);
  });
}

/**
 * In a worker: calls `stop` when the primary goes away (it holds the shared port, so this
 * worker would get no new connections and nobody would restart or stop it).
 */
export function onPrimaryGone(stop: (reason: string) => void): void {
  if (cluster.isWorker) process.once('disconnect', () => stop('primary gone'));
}
