import { ParleyError } from '../core/errors.js';
import type { Broker } from '../core/ports/broker.js';
import type { Store } from '../core/ports/store.js';

const CHECK_TIMEOUT_MS = 2000;

/**
 * `/readyz`: throws `unavailable` (503) naming what is not ready: the database or the broker
 * not answering within 2 s, or the server shutting down (so a load balancer stops sending).
 */
export async function checkReadiness(parts: { store: Store; broker: Broker; closing: boolean }): Promise<void> {
  if (parts.closing) throw new ParleyError('unavailable', 'Shutting down.', { server: ['shutting down'] });
  const [database, broker] = await Promise.all([
    answers(parts.store.eventLogBounds()),
    answers(parts.broker.publish('parley:readyz', '')),
  ]);
  const problems = {
    ...(database ? { database: [database] } : {}),
    ...(broker ? { broker: [broker] } : {}),
  };
  if (Object.keys(problems).length > 0) {
    throw new ParleyError('unavailable', `Not ready: ${Object.entries(problems).map(([k, v]) => `${k} ${v[0]}`).join(', ')}.`, problems);
  }
}

/** Null when `work` settles in time, else why not. */
async function answers(work: Promise<unknown>): Promise<string | null> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`no answer in ${CHECK_TIMEOUT_MS} ms`), CHECK_TIMEOUT_MS);
  });
  try {
    return await Promise.race([work.then(() => null), late]);
  } catch (err) {
    return `unreachable (${err instanceof Error ? err.message : String(err)})`;
  } finally {
    clearTimeout(timer);
  }
}
