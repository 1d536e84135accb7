import { expect } from 'vitest';
import type { ConfigFile } from '../../src/config/index.js';
import { type Res, type TestServer, type TestUser, startServer } from './harness.js';

/** Helpers shared by the `/messages/api/` black-box tests (rest-*.test.ts). */

export const API = '/messages/api';

export const NO_CREDENTIALS = { detail: 'Authentication credentials were not provided.' };
export const NOT_FOUND = { detail: 'Not found.' };

/**
 * A clock that never returns the same millisecond twice, so "latest activity" orderings
 * do not depend on two requests landing in different milliseconds.
 */
export function monotonicClock(): () => Date {
  let last = 0;
  return () => {
    last = Math.max(Date.now(), last + 1);
    return new Date(last);
  };
}

/** Starts a server with a monotonic clock (see `monotonicClock`). */
export function startRestServer(config: ConfigFile = {}): Promise<TestServer> {
  return startServer(config, { now: monotonicClock() });
}

let counter = 0;
/** A username unique within the process: `prefix` plus a counter. */
export const uniq = (prefix: string): string => `${prefix}${++counter}`;

/** Registers a user with a unique username starting with `prefix`. */
export function newUser(s: TestServer, prefix: string, extra?: { display_name?: string; email?: string }): Promise<TestUser> {
  return s.user(uniq(prefix), extra);
}

/** Asserts the status, showing the body when it is not the expected one. */
export function expectStatus(r: Res, status: number): void {
  expect({ status: r.status, body: r.body }).toMatchObject({ status });
}

export async function createChat(
  owner: TestUser,
  body: { chat_type: 'dm' | 'group' | 'channel' | 'room'; title?: string | null; member_ids?: number[]; is_public?: boolean; object?: string },
): Promise<any> {
  const r = await owner.client.post(`${API}/chats/`, body);
  if (r.status !== 201 && r.status !== 200) throw new Error(`create chat: ${r.status} ${r.text}`);
  return r.body;
}

export const createGroup = (owner: TestUser, members: TestUser[], title: string | null = null) =>
  createChat(owner, { chat_type: 'group', title, member_ids: members.map((m) => m.id) });

export async function send(user: TestUser, chatId: number, content: string, extra: Record<string, unknown> = {}): Promise<any> {
  const r = await user.client.post(`${API}/chats/${chatId}/messages/`, { content, ...extra });
  if (r.status !== 201) throw new Error(`send: ${r.status} ${r.text}`);
  return r.body;
}

/** Asserts a 400 in the seed's shape, with errors for `field`. */
export function expectInvalid(r: Res, field: string): void {
  expectStatus(r, 400);
  expect(r.body.error).toBe('Invalid request');
  expect(Array.isArray(r.body.details?.[field]), `details.${field} in ${r.text}`).toBe(true);
  expect(r.body.details[field].length).toBeGreaterThan(0);
  for (const m of r.body.details[field]) expect(typeof m).toBe('string');
}

/** Asserts that an error body shows nothing of the server's insides. */
export function expectNoLeak(r: Res): void {
  expect(r.text).not.toMatch(/\bat .+\.(ts|js):\d+/);
  expect(r.text).not.toMatch(/stack|SQLITE|sqlite|SELECT |INSERT |UPDATE |node_modules|better-sqlite3|TypeError|ReferenceError/);
  expect(r.body).not.toHaveProperty('stack');
  expect(r.body).not.toHaveProperty('statusCode');
  expect(r.body).not.toHaveProperty('code');
}

/** Ids of a list of users or of objects with `id`. */
export const ids = (xs: readonly { id: number }[]): number[] => xs.map((x) => x.id);
