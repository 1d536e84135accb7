import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, startServer } from './harness.js';

let s: TestServer;
beforeAll(async () => {
  s = await startServer();
});
afterAll(() => s.close());

describe('health', () => {
  it('reports ok once the store is ready', async () => {
    const r = await s.anon.get('/healthz');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ status: 'ok' });
  });
});

describe('auth', () => {
  it('registers, logs in, answers /auth/me, logs out', async () => {
    const reg = await s.anon.post('/auth/register', { username: 'alice', password: 'correct horse', email: 'a@example.com', display_name: 'Alice A' });
    expect(reg.status).toBe(201);
    expect(reg.body.user).toMatchObject({ username: 'alice', display_name: 'Alice A', email: 'a@example.com' });
    expect(typeof reg.body.token).toBe('string');
    expect(reg.headers.get('set-cookie')).toMatch(/parley_session=.*HttpOnly/i);

    const login = await s.anon.post('/auth/login', { username: 'ALICE', password: 'correct horse' });
    expect(login.status).toBe(200);
    const me = await s.anon.get('/auth/me', { authorization: `Token ${login.body.token}` });
    expect(me.status).toBe(200);
    expect(me.body.username).toBe('alice');
    const bearer = await s.anon.get('/auth/me', { authorization: `Bearer ${login.body.token}` });
    expect(bearer.status).toBe(200);

    const out = await s.anon.post('/auth/logout', undefined, { authorization: `Token ${login.body.token}` });
    expect(out.status).toBe(204);
    const after = await s.anon.get('/auth/me', { authorization: `Token ${login.body.token}` });
    expect(after.status).toBe(401);
    expect(after.body).toEqual({ detail: 'Invalid token.' });
  });

  it('authenticates with the session cookie', async () => {
    const reg = await s.anon.post('/auth/register', { username: 'cookie-user', password: 'long enough pw' });
    const cookie = (reg.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const me = await s.anon.get('/auth/me', { cookie });
    expect(me.status).toBe(200);
    expect(me.body.username).toBe('cookie-user');
  });

  it('refuses bad credentials and bad input with clear errors', async () => {
    await s.anon.post('/auth/register', { username: 'bob', password: 'bob-password' });
    const wrong = await s.anon.post('/auth/login', { username: 'bob', password: 'nope-nope' });
    expect(wrong.status).toBe(401);
    expect(wrong.body.detail).toMatch(/credentials/);
    const unknown = await s.anon.post('/auth/login', { username: 'nobody', password: 'whatever1' });
    expect(unknown.status).toBe(401);
    expect(unknown.body).toEqual(wrong.body);

    const dup = await s.anon.post('/auth/register', { username: 'BOB', password: 'another-pw' });
    expect(dup.status).toBe(400);
    expect(dup.body.details.username[0]).toMatch(/already exists/);

    const weak = await s.anon.post('/auth/register', { username: 'carol', password: 'short' });
    expect(weak.status).toBe(400);
    expect(weak.body.details.password[0]).toMatch(/too short/);

    const empty = await s.anon.post('/auth/register', { username: '', password: '' });
    expect(empty.status).toBe(400);
    expect(empty.body.error).toBe('Invalid request');

    const missing = await s.anon.post('/auth/register', { password: 'long enough' });
    expect(missing.status).toBe(400);
    expect(missing.body.details.username).toEqual(['This field is required.']);

    const badEmail = await s.anon.post('/auth/register', { username: 'dave', password: 'long enough', email: 'not-an-email' });
    expect(badEmail.status).toBe(400);
    expect(badEmail.body.details.email).toBeDefined();
  });

  it('answers 401 without credentials and for a malformed header', async () => {
    expect((await s.anon.get('/auth/me')).body).toEqual({ detail: 'Authentication credentials were not provided.' });
    const bad = await s.anon.get('/auth/me', { authorization: 'Basic abc' });
    expect(bad.status).toBe(401);
  });

  it('rejects malformed JSON, wrong types and oversize bodies', async () => {
    const bad = await s.anon.post('/auth/login', '{"username": ');
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe('Invalid request');
    const types = await s.anon.post('/auth/login', { username: ['x'], password: 5 });
    expect(types.status).toBe(400);
    const big = await s.anon.post('/auth/login', { username: 'x', password: 'y'.repeat(2 * 1024 * 1024) });
    expect(big.status).toBe(413);
    const form = await s.anon.post('/auth/login', 'username=x', { 'content-type': 'text/plain' });
    expect(form.status).toBe(415);
  });

  it('can turn registration off', async () => {
    const closed = await startServer({ registrationEnabled: false });
    try {
      const r = await closed.anon.post('/auth/register', { username: 'eve', password: 'long enough' });
      expect(r.status).toBe(403);
      expect(r.body.detail).toMatch(/disabled/);
    } finally {
      await closed.close();
    }
  });
});
