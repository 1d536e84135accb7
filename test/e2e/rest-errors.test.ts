import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, type TestUser, startServer } from './harness.js';
import { API, NOT_FOUND, NO_CREDENTIALS, createGroup, expectNoLeak, newUser, send, startRestServer } from './rest-fixtures.js';

let s: TestServer;
let a: TestUser;
let b: TestUser;
let chat: any;
beforeAll(async () => {
  s = await startRestServer();
  a = await newUser(s, 'ea');
  b = await newUser(s, 'eb');
  chat = await createGroup(a, [b], 'Errors');
});
afterAll(() => s.close());

describe('error shapes of /messages/api/', () => {
  it('400 is exactly {error: "Invalid request", details: {field: [messages]}}', async () => {
    const r = await a.client.post(`${API}/chats/${chat.id}/messages/`, { content: '' });
    expect(r.status).toBe(400);
    expect(r.headers.get('content-type')).toMatch(/application\/json/);
    expect(Object.keys(r.body).sort()).toEqual(['details', 'error']);
    expect(r.body.error).toBe('Invalid request');
    expect(r.body.details).toEqual({ content: [expect.any(String)] });
    expectNoLeak(r);
  });

  it('400 lists every bad field at once', async () => {
    const r = await a.client.post(`${API}/chats/`, { chat_type: 5, title: 7, member_ids: 'x', surprise: true });
    expect(r.status).toBe(400);
    expect(Object.keys(r.body.details).sort()).toEqual(['chat_type', 'member_ids', 'surprise', 'title']);
    for (const list of Object.values(r.body.details)) {
      expect(Array.isArray(list)).toBe(true);
      for (const m of list as unknown[]) expect(typeof m).toBe('string');
    }
    expect(r.body.details.surprise).toEqual(['Unknown field "surprise".']);
    expectNoLeak(r);
  });

  it('malformed JSON is a 400 in the same shape, without parser internals', async () => {
    const r = await a.client.post(`${API}/chats/${chat.id}/messages/`, '{"content": "x",');
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ error: 'Invalid request', details: { non_field_errors: [expect.any(String)] } });
    expect(r.text).not.toMatch(/position|Unexpected token|JSON\.parse/);
    expectNoLeak(r);
  });

  it('401 is {detail: "Authentication credentials were not provided."}', async () => {
    const r = await s.anon.get(`${API}/chats/`);
    expect(r.status).toBe(401);
    expect(r.body).toEqual(NO_CREDENTIALS);
  });

  it('403 is {detail} only', async () => {
    const r = await b.client.delete(`${API}/chats/${chat.id}/`);
    expect(r.status).toBe(403);
    expect(r.body).toEqual({ detail: 'You do not have permission to perform this action.' });
  });

  it('403 for someone else\'s message says what is allowed', async () => {
    const m = await send(a, chat.id, 'mine');
    const edit = await b.client.patch(`${API}/messages/${m.id}/`, { content: 'x' });
    expect(edit.status).toBe(403);
    expect(edit.body).toEqual({ detail: expect.stringMatching(/own messages/) });
    const del = await b.client.delete(`${API}/messages/${m.id}/`);
    expect(del.body).toEqual({ detail: expect.stringMatching(/own messages/) });
  });

  it('404 is {detail: "Not found."}', async () => {
    const r = await a.client.get(`${API}/chats/424242/`);
    expect(r.status).toBe(404);
    expect(r.body).toEqual(NOT_FOUND);
  });

  it('unknown routes are 404 {detail: "Not found."}, for anyone', async () => {
    for (const path of [`${API}/nope/`, `${API}/chats/${chat.id}/bogus/`, `${API}/messages/`, `${API}/`]) {
      for (const client of [a.client, s.anon]) {
        const r = await client.get(path);
        expect(r.status, path).toBe(404);
        expect(r.body).toEqual(NOT_FOUND);
      }
    }
  });

  it('a method a route does not take answers {detail} (404 or 405), never HTML', async () => {
    for (const [method, path] of [
      ['DELETE', `${API}/chats/`],
      ['PUT', `${API}/search/`],
      ['POST', `${API}/chats/${chat.id}/`],
    ] as const) {
      const r = await a.client.request(method, path, {});
      expect([404, 405]).toContain(r.status);
      expect(r.headers.get('content-type')).toMatch(/application\/json/);
      expect(typeof r.body.detail).toBe('string');
    }
  });

  it('a malformed id in the path is refused in a seed shape (400 details or 404)', async () => {
    for (const id of ['abc', '-1', '0', '1.5', '99999999999999999999']) {
      const r = await a.client.get(`${API}/chats/${id}/`);
      expect([400, 404], `${id}: ${r.text}`).toContain(r.status);
      if (r.status === 400) expect(r.body).toEqual({ error: 'Invalid request', details: { chat_id: [expect.any(String)] } });
      else expect(r.body).toEqual(NOT_FOUND);
      expectNoLeak(r);
    }
  });

  it.each(['chats', 'messages'])('a huge page number on the %s list is a 400 (or an empty page), never a 500', async (which) => {
    const path = which === 'chats' ? `${API}/chats/` : `${API}/chats/${chat.id}/messages/`;
    for (const page of ['9007199254740991', '100000000000000000000']) {
      const r = await a.client.get(`${path}?page=${page}`);
      expect([200, 400], `page=${page}: ${r.status} ${r.text}`).toContain(r.status);
      if (r.status === 200) expect(r.body.results).toEqual([]);
      expectNoLeak(r);
    }
  });

  it('a body neither JSON nor a form is 415 {detail}; a huge body is 413 {detail}', async () => {
    // Form-encoded bodies are accepted, as Django's views take them (rest-forms.test.ts).
    const xml = await a.client.post(`${API}/chats/${chat.id}/messages/`, '<content>hi</content>', { 'content-type': 'application/xml' });
    expect(xml.status).toBe(415);
    expect(typeof xml.body.detail).toBe('string');
    const text = await a.client.post(`${API}/chats/${chat.id}/messages/`, 'hi', { 'content-type': 'text/plain' });
    expect(text.status).toBe(415);
    const big = await a.client.post(`${API}/chats/${chat.id}/messages/`, { content: 'x'.repeat(2 * 1024 * 1024) });
    expect(big.status).toBe(413);
    expect(typeof big.body.detail).toBe('string');
    expectNoLeak(big);
  });

  it('SQL-looking input is data: no error, no leak', async () => {
    const evil = "'; DROP TABLE messages; --";
    const m = await a.client.post(`${API}/chats/${chat.id}/messages/`, { content: evil });
    expect(m.status).toBe(201);
    expect(m.body.content).toBe(evil);
    const list = await a.client.get(`${API}/chats/?search=${encodeURIComponent(evil)}`);
    expect(list.status).toBe(200);
    expect(list.body.count).toBe(0);
    const search = await a.client.get(`${API}/search/?q=${encodeURIComponent(evil)}`);
    expect(search.status).toBe(200);
    expectNoLeak(search);
    expect((await a.client.get(`${API}/chats/${chat.id}/messages/`)).status).toBe(200);
  });
});

describe('500', () => {
  it('is {error: "Internal server error"} and shows nothing of the failure', async () => {
    // A fault injected at the policy port: a rule that throws with SQL-looking text.
    const broken = await startServer(
      {},
      {
        policy: {
          canView: async () => {
            throw new Error('SQLITE_ERROR: no such table: members (SELECT * FROM members)');
          },
        },
      },
    );
    try {
      const u = await broken.user('victim');
      const g = await u.client.post(`${API}/chats/`, { chat_type: 'group', title: 'x' });
      expect(g.status).toBe(500);
      expect(g.body).toEqual({ error: 'Internal server error' });
      expectNoLeak(g);
      const r = await u.client.get(`${API}/chats/${g.body.id ?? 1}/`);
      expect(r.status).toBe(500);
      expect(r.body).toEqual({ error: 'Internal server error' });
      expectNoLeak(r);
    } finally {
      await broken.close();
    }
  });
});
