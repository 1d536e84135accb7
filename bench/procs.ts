/**
 * Child processes for the benchmarks: spawning a server in its own process, knowing when it
 * listens, reading its CPU time and memory from /proc, and stopping it (and everything else
 * registered) whatever happens: failure, Ctrl-C, or the bench being killed (parent-watch).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { type AddressInfo, connect, createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
export const ROOT = join(BENCH_DIR, '..');

// ── cleanup, whatever happens ────────────────────────────────────────────────

const cleanups: { name: string; fn: () => Promise<void> }[] = [];
const children = new Set<ChildProcess>();
let cleaning: Promise<void> | null = null;

export function onCleanup(name: string, fn: () => Promise<void>): void {
  cleanups.push({ name, fn });
}

/** Runs the cleanups in reverse order of registration; each is bounded and may fail alone. */
export function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    for (const { name, fn } of cleanups.reverse()) {
      try {
        await withTimeout(fn(), 20_000, `cleanup ${name}`);
      } catch (err) {
        console.warn(`cleanup "${name}" failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    cleanups.length = 0;
  })();
  return cleaning;
}

/**
 * Runs `main`, then the cleanups, then exits. `process.on`, not `once`, for the signals: under
 * `npx tsx`, Ctrl-C can arrive twice, and a signal with no listener left would end the process
 * in the middle of cleaning up.
 */
export function runMain(main: () => Promise<void>): void {
  let signalled = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (signalled) return;
      signalled = true;
      console.warn(`\n${signal}: cleaning up…`);
      void cleanup().finally(() => process.exit(130));
    });
  }
  // Last resort: never leave a server behind.
  process.on('exit', () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  });
  main()
    .then(
      () => 0,
      (err: unknown) => {
        console.error(err);
        return 1;
      },
    )
    .then(async (code) => {
      await cleanup();
      process.exit(code);
    });
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ── servers in their own processes ───────────────────────────────────────────

export interface ServerProcess {
  name: string;
  port: number;
  pid: number;
  /** Memory after a full GC (servers spawned with `memoryProbe`), else null. */
  memory(): Promise<MemorySample | null>;
  stop(): Promise<void>;
}

export interface MemorySample {
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

/** A port nobody listens on now (the kernel's pick), for a server that takes `--port`/`PORT`. */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/**
 * Spawns `node --import tsx <args>` from the repository root with `PORT` set, and waits until
 * the port accepts connections: the same readiness test for every target, whatever it logs.
 * Stdout is drained; stderr's tail is kept for the error message if the process dies.
 */
export async function spawnServer(
  name: string,
  args: string[],
  env: Record<string, string | undefined>,
  options: { memoryProbe?: boolean; nodeArgs?: string[] } = {},
): Promise<ServerProcess> {
  const port = await freePort();
  // `undefined` removes a variable the shell has (e.g. REDIS_URL for a one-process server).
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env, PORT: String(port) };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete childEnv[k];
  // parent-watch: a server whose bench was killed outright stops itself instead of lingering.
  const probe = options.memoryProbe ? ['--expose-gc', '--import', './bench/mem-probe.ts'] : [];
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), '--import', 'tsx', '--import', './bench/parent-watch.ts', ...probe, ...args], {
    cwd: ROOT,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let stderr = '';
  let onProbe: ((m: MemorySample) => void) | null = null;
  if (child.stdout) {
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (!line.startsWith('{"memProbe":')) return;
      try {
        onProbe?.((JSON.parse(line) as { memProbe: MemorySample }).memProbe);
      } catch {
        // a log line that happened to look like one
      }
    });
  }
  const memory = async (): Promise<MemorySample | null> => {
    if (!options.memoryProbe || child.pid === undefined) return null;
    const got = new Promise<MemorySample>((resolve) => (onProbe = resolve));
    child.kill('SIGUSR2');
    try {
      return await withTimeout(got, 10_000, `${name} memory probe`);
    } catch {
      return null;
    } finally {
      onProbe = null;
    }
  };
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 12_000);
      await exited;
      clearTimeout(timer);
    }
    children.delete(child);
  };
  onCleanup(`stop ${name}`, stop);
  const deadline = performance.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${name} exited (${child.exitCode ?? child.signalCode}) before listening:\n${stderr}`);
    if (await accepts(port)) break;
    if (performance.now() > deadline) throw new Error(`${name} did not listen on ${port} within 60 s:\n${stderr}`);
    await sleep(100);
  }
  if (child.pid === undefined) throw new Error(`${name}: no pid`);
  return { name, port, pid: child.pid, memory, stop };
}

// ── CPU and memory from /proc ────────────────────────────────────────────────

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** User + system CPU time of a process in ms (all its threads), or null if it is gone or unreadable. */
export function cpuMs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start at field 3.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
  } catch {
    return null;
  }
}

/** Resident memory of a process in bytes, or null. */
export function rssBytes(pid: number): number | null {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m?.[1] ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}
