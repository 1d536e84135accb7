/**
 * Preloaded into the servers `bench/realtime.ts` spawns (with `--expose-gc`): on SIGUSR2 the
 * server collects garbage and prints one line `{"memProbe":{…}}` with `process.memoryUsage()`,
 * so the bench can tell memory the connections hold from memory the heap has not given back.
 */
const gc = (globalThis as { gc?: () => void }).gc;
process.on('SIGUSR2', () => {
  gc?.();
  gc?.();
  const { rss, heapUsed, external, arrayBuffers } = process.memoryUsage();
  process.stdout.write(`${JSON.stringify({ memProbe: { rss, heapUsed, external, arrayBuffers, gc: gc !== undefined } })}\n`);
});
