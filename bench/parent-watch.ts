/**
 * Preloaded into the servers the benchmarks spawn (`node --import tsx --import ./bench/parent-watch.ts …`):
 * if the benchmark dies without stopping them (killed outright), the server is handed to
 * another parent; it notices within a second and stops itself with SIGTERM, the graceful way.
 */
const parent = process.ppid;
const timer = setInterval(() => {
  if (process.ppid !== parent) {
    clearInterval(timer);
    process.kill(process.pid, 'SIGTERM');
  }
}, 1000);
timer.unref();
