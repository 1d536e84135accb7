import { expect } from 'vitest';
import { openSqliteStore } from '../store/index.js';
import { type CoreOptions, type DomainEvent, type ErrorCode, type Store, type User, ParleyError, createCore } from './index.js';

/** Test support for the core's unit tests (not part of the build). */

export const T0 = Date.UTC(2024, 2, 1, 12, 0, 0);
const open: Store[] = [];

/** Closes the stores made by `coreFixture`; call it in afterEach. */
export async function closeFixtures(): Promise<void> {
  for (const store of open.splice(0)) await store.close();
}

/** A core on a fresh in-memory SQLite store, a controllable clock and a recorded event stream. */
export async function coreFixture(options: Omit<CoreOptions, 'store' | 'now'> = {}) {
  const store = openSqliteStore({ filename: ':memory:' });
  await store.migrate();
  open.push(store);
  let now = new Date(T0);
  const core = createCore({ ...options, store, now: () => now });
  const events: DomainEvent[] = [];
  core.events.on((e) => {
    events.push(e);
  });
  const user = (username: string, displayName = username): Promise<User> =>
    store.createUser({ username, displayName, email: `${username}@example.com`, passwordHash: null, now });
  const tick = (seconds = 1): Date => {
    now = new Date(now.getTime() + seconds * 1000);
    return now;
  };
  const types = (): string[] => events.map((e) => e.type);
  return { core, store, events, types, user, tick };
}

/** Awaits a promise that must reject with `ParleyError(code)`. */
export async function expectError(promise: Promise<unknown>, code: ErrorCode): Promise<ParleyError> {
  const error = await promise.then(
    (value) => {
      throw new Error(`expected ParleyError('${code}'), got ${JSON.stringify(value)}`);
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ParleyError);
  expect((error as ParleyError).code).toBe(code);
  return error as ParleyError;
}
