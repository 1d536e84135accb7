import { readFileSync } from 'node:fs';

/** CPU time of this process's main thread, and how long it waited for a CPU, in ms. */
export interface ThreadCpu {
  cpuMs: number;
  /** Time runnable but not running: other load on the machine took the CPU. */
  waitMs: number;
}

/**
 * The main thread's scheduler statistics (Linux `/proc/self/task/<pid>/schedstat`), or null
 * where there are none. Unlike wall-clock utilization, CPU time does not grow when other
 * processes take the machine, so costs per message stay comparable on a shared machine.
 */
export function mainThreadCpu(): ThreadCpu | null {
  try {
    const [run, wait] = readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').trim().split(/\s+/).map(Number);
    if (run === undefined || wait === undefined || !Number.isFinite(run) || !Number.isFinite(wait)) return null;
    return { cpuMs: run / 1e6, waitMs: wait / 1e6 };
  } catch {
    return null;
  }
}

/** CPU and wait time since `before` (null when not available). */
export function cpuSince(before: ThreadCpu | null): ThreadCpu | null {
  const now = mainThreadCpu();
  if (!before || !now) return null;
  return { cpuMs: now.cpuMs - before.cpuMs, waitMs: now.waitMs - before.waitMs };
}
