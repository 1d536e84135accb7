import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, type TestServer, startServer } from './harness.js';

/** A client is told whether to sign in again (its token expired) or has a wrong token. */
describe('expired and invalid tokens', () => {
  let clock = Date.UTC(2026, 0, 1);
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer({ sessionTtlDays: 1 }, { now: () => new Date(clock) });
  });
  afterAll(() => s.close());

  it('an expired session token says so; a garbage one is invalid', async () => {
    const login = await s.anon.post('/auth/register', { username: 'dora', password: 'dora-password' });
    expect(login.status).toBe(201);
    const dora = new Client(s.url, login.body.token);
    expect((await dora.get('/auth/me')).status).toBe(200);
    clock += 2 * 86_400_000;
    expect(await dora.get('/auth/me')).toMatchObject({ status: 401, body: { detail: 'Token has expired.' } });
    expect(await new Client(s.url, 'not-a-token-at-all').get('/auth/me')).toMatchObject({ status: 401, body: { detail: 'Invalid token.' } });
  });
});
