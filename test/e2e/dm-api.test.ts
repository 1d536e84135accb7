import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Client, type Res, type TestServer, type TestUser, startServer } from './harness.js';

/**
 * Black-box tests of `/api/dm/`, the drf-directmessages face (seed 004): paths, field names
 * and status codes as its README shows them.
 */

let s: TestServer;
beforeAll(async () => {
  s = await startServer();
});
afterAll(() => s.close());

const MESSAGE_FIELDS = ['id', 'sender', 'recipient', 'direction', 'sent_at', 'read_at', 'content', 'attachments', 'parent_message_id', 'forwarded_from_id', 'parent', 'metadata'];
const PARTNER_FIELDS = ['id', 'username', 'first_name', 'last_name'];
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const send = (from: TestUser, to: { id: number }, content: string) => from.client.post(`/api/dm/send/${to.id}/`, { content });
const messages = (viewer: TestUser, partner: { id: number }) => viewer.client.get(`/api/dm/conversations/${partner.id}/`);
const unread = async (u: TestUser): Promise<number> => {
  const r = await u.client.get('/api/dm/unread/');
  expect(r.status).toBe(200);
  return r.body.count;
};

/** Follows an absolute `next`/`previous` link; it must point back at this server. */
const follow = (client: Client, url: string): Promise<Res> => {
  expect(url.startsWith(`${s.url}/api/dm/`)).toBe(true);
  return client.get(url.slice(s.url.length));
};

/** Registers users in small parallel batches (password hashing is deliberately slow). */
async function users(prefix: string, n: number): Promise<TestUser[]> {
  const out: TestUser[] = [];
  for (let i = 0; i < n; i += 10) {
    const batch = Array.from({ length: Math.min(10, n - i) }, (_, j) => s.user(`${prefix}${i + j}`));
    out.push(...(await Promise.all(batch)));
  }
  return out;
}

describe('authentication', () => {
  const endpoints: [string, string, unknown?][] = [
    ['GET', '/api/dm/unread/'],
    ['GET', '/api/dm/conversations/'],
    ['GET', '/api/dm/conversations/unread/'],
    ['GET', '/api/dm/conversations/1/'],
    ['POST', '/api/dm/conversations/1/', { content: 'hi' }],
    ['POST', '/api/dm/conversations/1/'],
    ['POST', '/api/dm/send/1/', { content: 'hi' }],
    ['POST', '/api/dm/send/1/', { wrong: true }],
    ['DELETE', '/api/dm/messages/1/'],
  ];

  // As drf-directmessages under DRF's default (session-first) authentication: 403, never 401.
  it('answers 403 {detail} on every endpoint, before looking at the body', async () => {
    for (const [method, path, body] of endpoints) {
      const r = await s.anon.request(method, path, body);
      expect(r.status, `${method} ${path}`).toBe(403);
      expect(r.body, `${method} ${path}`).toEqual({ detail: 'Authentication credentials were not provided.' });
    }
  });

  it('answers 403 {detail} for a bad token', async () => {
    for (const [method, path, body] of endpoints) {
      const r = await s.anon.request(method, path, body, { authorization: 'Token not-a-real-token' });
      expect(r.status, `${method} ${path}`).toBe(403);
      expect(r.body, `${method} ${path}`).toEqual({ detail: 'Invalid token.' });
    }
  });
});

describe('sending', () => {
  it('POST send/<id>/ answers 201 with the message, direction "out"', async () => {
    const [a, b] = await Promise.all([s.user('send-a'), s.user('send-b')]);
    const r = await send(a, b, 'Hello, world!');
    expect(r.status).toBe(201);
    expect(Object.keys(r.body)).toEqual(MESSAGE_FIELDS);
    expect(r.body).toMatchObject({ sender: a.id, recipient: b.id, direction: 'out', read_at: null, content: 'Hello, world!' });
    expect(r.body.id).toBeTypeOf('number');
    expect(r.body.sent_at).toMatch(ISO);
    expect(Math.abs(Date.parse(r.body.sent_at) - Date.now())).toBeLessThan(60_000);
  });

  it('POST conversations/<id>/ answers 201 with the whole conversation as a JSON array', async () => {
    const [a, b] = await Promise.all([s.user('conv-a'), s.user('conv-b')]);
    const first = await send(b, a, 'Hey there!');
    const r = await a.client.post(`/api/dm/conversations/${b.id}/`, { content: 'Hello again!' });
    expect(r.status).toBe(201);
    expect(Array.isArray(r.body)).toBe(true);
    expect(r.body.map((m: { content: string }) => m.content)).toEqual(['Hello again!', 'Hey there!']);
    const [mine, theirs] = r.body;
    expect(Object.keys(mine)).toEqual(MESSAGE_FIELDS);
    expect(mine).toMatchObject({ sender: a.id, recipient: b.id, direction: 'out', read_at: null });
    // Like drf-directmessages, answering with the conversation reads it.
    expect(theirs).toMatchObject({ id: first.body.id, sender: b.id, recipient: a.id, direction: 'in' });
    expect(theirs.read_at).toMatch(ISO);
    expect(await unread(a)).toBe(0);
  });

  it('refuses empty, blank, missing and non-string content with 400 {detail}', async () => {
    const [a, b] = await Promise.all([s.user('content-a'), s.user('content-b')]);
    for (const path of [`/api/dm/send/${b.id}/`, `/api/dm/conversations/${b.id}/`]) {
      // The package's own words for empty and missing content.
      const empty = await a.client.post(path, { content: '' });
      expect(empty.status).toBe(400);
      expect(empty.body).toEqual({ detail: 'content is required' });

      const missing = await a.client.post(path, {});
      expect(missing.status).toBe(400);
      expect(missing.body).toEqual({ detail: 'content is required' });

      const blank = await a.client.post(path, { content: '   ' });
      expect(blank.status).toBe(400);
      expect(blank.body).toEqual({ detail: 'This field may not be blank.', content: ['This field may not be blank.'] });

      const wrongType = await a.client.post(path, { content: 5 });
      expect(wrongType.status).toBe(400);
      expect(wrongType.body.detail).toBeTypeOf('string');

      const malformed = await a.client.post(path, '{"content": ');
      expect(malformed.status).toBe(400);
      expect(malformed.body.detail).toBeTypeOf('string');
    }
    expect((await messages(a, b)).body.results).toEqual([]);
  });

  it('refuses messages to yourself with 400 and the package\'s text; your conversation with yourself is empty', async () => {
    const a = await s.user('self-a');
    for (const r of [await send(a, a, 'me'), await a.client.post(`/api/dm/conversations/${a.id}/`, { content: 'me' })]) {
      expect(r.status).toBe(400);
      expect(r.body).toEqual({ detail: '["You can\'t send messages to yourself."]' });
    }
    const own = await messages(a, a);
    expect(own.status).toBe(200);
    expect(own.body).toEqual({ next: null, previous: null, results: [] });
  });

  it('answers 404 for an unknown user and for a non-numeric id', async () => {
    const a = await s.user('unknown-a');
    for (const r of [
      await send(a, { id: 999_999 }, 'hello?'),
      await a.client.post('/api/dm/conversations/999999/', { content: 'hello?' }),
      await a.client.get('/api/dm/conversations/999999/'),
      await a.client.get('/api/dm/conversations/abc/'),
      await a.client.get('/api/dm/conversations/0/'),
      await a.client.post('/api/dm/send/abc/', { content: 'x' }),
      await a.client.delete('/api/dm/messages/abc/'),
    ]) {
      expect(r.status).toBe(404);
      expect(r.body).toEqual({ detail: 'Not found.' });
    }
    const noMessage = await a.client.delete('/api/dm/messages/0/');
    expect(noMessage.status).toBe(404);
    expect(noMessage.body).toEqual({ detail: 'Message not found or not authorized.' });
  });
});

describe('reading', () => {
  it('GET conversations/<id>/ with no DM yet is 200 with no results', async () => {
    const [a, b] = await Promise.all([s.user('empty-a'), s.user('empty-b')]);
    const r = await messages(a, b);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ next: null, previous: null, results: [] });
  });

  it('shows direction and sender/recipient relative to each side', async () => {
    const [a, b] = await Promise.all([s.user('dir-a'), s.user('dir-b')]);
    const m1 = (await send(a, b, 'from a')).body;
    const m2 = (await b.client.post(`/api/dm/conversations/${a.id}/`, { content: 'from b' })).body[0];

    const seenByA = (await messages(a, b)).body.results;
    expect(seenByA.map((m: { id: number }) => m.id)).toEqual([m2.id, m1.id]);
    expect(seenByA[0]).toMatchObject({ sender: b.id, recipient: a.id, direction: 'in', content: 'from b' });
    expect(seenByA[1]).toMatchObject({ sender: a.id, recipient: b.id, direction: 'out', content: 'from a' });

    const seenByB = (await messages(b, a)).body.results;
    expect(seenByB[0]).toMatchObject({ sender: b.id, recipient: a.id, direction: 'out' });
    expect(seenByB[1]).toMatchObject({ sender: a.id, recipient: b.id, direction: 'in' });
    for (const m of [...seenByA, ...seenByB]) expect(Object.keys(m)).toEqual(MESSAGE_FIELDS);
  });

  it('counts unread messages, and reading the conversation marks them read on both sides', async () => {
    const [alice, bob, carol] = await Promise.all([s.user('ur-alice'), s.user('ur-bob'), s.user('ur-carol')]);
    for (const text of ['one', 'two', 'three']) await send(bob, alice, text);
    await sleep(5);
    await send(carol, alice, 'hi alice');

    const total = await alice.client.get('/api/dm/unread/');
    expect(total.status).toBe(200);
    expect(total.body).toEqual({ id: alice.id, count: 4 });
    const per = await alice.client.get('/api/dm/conversations/unread/');
    expect(per.status).toBe(200);
    // By partner id, as the package lists users.
    expect(per.body).toEqual(
      [
        { partner_id: carol.id, partner_username: 'ur-carol', unread_count: 1 },
        { partner_id: bob.id, partner_username: 'ur-bob', unread_count: 3 },
      ].sort((x, y) => x.partner_id - y.partner_id),
    );
    // Senders have nothing unread.
    expect(await unread(bob)).toBe(0);
    expect((await bob.client.get('/api/dm/conversations/unread/')).body).toEqual([]);

    // Before alice reads, bob sees his messages unread.
    const before = (await messages(bob, alice)).body.results;
    expect(before).toHaveLength(3);
    for (const m of before) expect(m).toMatchObject({ direction: 'out', read_at: null });

    const read = (await messages(alice, bob)).body.results;
    for (const m of read) {
      expect(m.direction).toBe('in');
      expect(m.read_at).toMatch(ISO);
    }
    expect(await unread(alice)).toBe(1);
    expect((await alice.client.get('/api/dm/conversations/unread/')).body).toEqual([
      { partner_id: carol.id, partner_username: 'ur-carol', unread_count: 1 },
    ]);

    const after = (await messages(bob, alice)).body.results;
    for (const m of after) {
      expect(m.direction).toBe('out');
      expect(m.read_at).toMatch(ISO);
    }

    await messages(alice, carol);
    expect(await unread(alice)).toBe(0);
    expect((await alice.client.get('/api/dm/conversations/unread/')).body).toEqual([]);
  });

  it('lists conversation partners by user id, highest first (the package\'s -pk), with first and last names', async () => {
    const me = await s.user('lister');
    const jane = await s.user('jane', { display_name: 'Jane Doe' });
    const mary = await s.user('mary', { display_name: 'Mary Ann  Smith' });
    const plain = await s.user('plainuser');
    await send(me, jane, 'hi jane');
    await sleep(5);
    await send(me, mary, 'hi mary');
    await sleep(5);
    await send(plain, me, 'hi lister');
    await sleep(5);
    await send(jane, me, 'hi again');

    const r = await me.client.get('/api/dm/conversations/');
    expect(r.status).toBe(200);
    expect(Object.keys(r.body)).toEqual(['next', 'previous', 'results']);
    expect(r.body.next).toBeNull();
    expect(r.body.previous).toBeNull();
    for (const p of r.body.results) expect(Object.keys(p)).toEqual(PARTNER_FIELDS);
    expect(r.body.results).toEqual([
      { id: plain.id, username: 'plainuser', first_name: 'plainuser', last_name: '' },
      { id: mary.id, username: 'mary', first_name: 'Mary', last_name: 'Ann Smith' },
      { id: jane.id, username: 'jane', first_name: 'Jane', last_name: 'Doe' },
    ]);
    // The partner's list shows me as their partner.
    expect((await jane.client.get('/api/dm/conversations/')).body.results).toEqual([
      { id: me.id, username: 'lister', first_name: 'lister', last_name: '' },
    ]);
  });
});

describe('deleting', () => {
  it('hides a message for me only: 204 (again 204), partner still sees it, others get 404', async () => {
    const [a, b, outsider] = await Promise.all([s.user('del-a'), s.user('del-b'), s.user('del-out')]);
    const m1 = (await send(a, b, 'first')).body;
    const m2 = (await send(b, a, 'second')).body;
    expect(await unread(a)).toBe(1);

    const gone = await a.client.delete(`/api/dm/messages/${m1.id}/`);
    expect(gone.status).toBe(204);
    expect(gone.text).toBe('');
    expect((await messages(a, b)).body.results.map((m: { id: number }) => m.id)).toEqual([m2.id]);
    expect((await messages(b, a)).body.results.map((m: { id: number }) => m.id)).toEqual([m2.id, m1.id]);

    // Deleting an unread inbound message takes it out of the unread counts.
    await send(b, a, 'third');
    expect(await unread(a)).toBe(1);
    const third = (await messages(b, a)).body.results[0];
    expect((await a.client.delete(`/api/dm/messages/${third.id}/`)).status).toBe(204);
    expect(await unread(a)).toBe(0);

    // Deleting again is a 204, as the package's delete is idempotent.
    const again = await a.client.delete(`/api/dm/messages/${m1.id}/`);
    expect(again.status).toBe(204);
    expect(again.text).toBe('');
    // Someone else's conversation and an unknown id are 404, in the package's words.
    for (const r of [await outsider.client.delete(`/api/dm/messages/${m2.id}/`), await a.client.delete('/api/dm/messages/999999/')]) {
      expect(r.status).toBe(404);
      expect(r.body).toEqual({ detail: 'Message not found or not authorized.' });
    }
    // The outsider's attempt changed nothing.
    expect((await messages(b, a)).body.results.map((m: { id: number }) => m.id)).toContain(m2.id);
  });
});

describe('pagination', () => {
  it('pages 55 conversation partners as 50 + 5, with working next and previous links', async () => {
    const hub = await s.user('hub');
    const partners = await users('spoke', 55);
    for (const p of partners) await send(p, hub, `hi from ${p.username}`);
    // By user id, highest first (the package pages users by -pk).
    const expected = partners.map((p) => p.id).sort((x, y) => y - x);

    const p1 = await hub.client.get('/api/dm/conversations/');
    expect(p1.status).toBe(200);
    expect(p1.body.results).toHaveLength(50);
    expect(p1.body.previous).toBeNull();
    expect(p1.body.next).toMatch(new RegExp(`^${s.url}/api/dm/conversations/\\?cursor=[A-Za-z0-9_%-]+$`));
    const ids1 = p1.body.results.map((p: { id: number }) => p.id);
    expect(ids1).toEqual(expected.slice(0, 50));

    const p2 = await follow(hub.client, p1.body.next);
    expect(p2.status).toBe(200);
    expect(p2.body.results).toHaveLength(5);
    expect(p2.body.next).toBeNull();
    expect(p2.body.previous).not.toBeNull();
    const ids2 = p2.body.results.map((p: { id: number }) => p.id);
    expect(ids2).toEqual(expected.slice(50));
    expect(new Set([...ids1, ...ids2]).size).toBe(55);

    const back = await follow(hub.client, p2.body.previous);
    expect(back.status).toBe(200);
    expect(back.body.results.map((p: { id: number }) => p.id)).toEqual(ids1);
    expect(back.body.previous).toBeNull();
    expect(back.body.next).not.toBeNull();
    expect((await follow(hub.client, back.body.next)).body.results.map((p: { id: number }) => p.id)).toEqual(ids2);

    // A partner writing again does not move: the order is by id, so links stay valid.
    const mover = partners.find((p) => p.id === expected.at(-1));
    if (!mover) throw new Error('no partners');
    await send(mover, hub, 'me again');
    const again = await follow(hub.client, p1.body.next);
    expect(again.body.results.map((p: { id: number }) => p.id)).toEqual(expected.slice(50));
    expect((await hub.client.get('/api/dm/conversations/')).body.results[0].id).toBe(expected[0]);
  });

  it('pages 55 messages as 50 + 5, newest first, without duplicates, marking them read', async () => {
    const [a, b] = await Promise.all([s.user('pager-a'), s.user('pager-b')]);
    const sent: number[] = [];
    for (let i = 0; i < 55; i++) {
      const r = i % 5 === 0 ? await send(a, b, `m${i}`) : await send(b, a, `m${i}`);
      expect(r.status).toBe(201);
      sent.push(r.body.id);
    }
    const newestFirst = [...sent].reverse();
    expect(await unread(a)).toBeGreaterThan(0);

    const p1 = await messages(a, b);
    expect(p1.status).toBe(200);
    expect(p1.body.results).toHaveLength(50);
    expect(p1.body.previous).toBeNull();
    expect(p1.body.next).toMatch(new RegExp(`^${s.url}/api/dm/conversations/${b.id}/\\?cursor=[A-Za-z0-9_%-]+$`));
    expect(p1.body.results.map((m: { id: number }) => m.id)).toEqual(newestFirst.slice(0, 50));
    expect(await unread(a)).toBe(0);

    const p2 = await follow(a.client, p1.body.next);
    expect(p2.status).toBe(200);
    expect(p2.body.results.map((m: { id: number }) => m.id)).toEqual(newestFirst.slice(50));
    expect(p2.body.results.map((m: { content: string }) => m.content)).toEqual(['m4', 'm3', 'm2', 'm1', 'm0']);
    expect(p2.body.next).toBeNull();
    expect(p2.body.previous).not.toBeNull();
    for (const m of [...p1.body.results, ...p2.body.results]) {
      expect(m.direction).toBe(m.sender === a.id ? 'out' : 'in');
      if (m.direction === 'in') expect(m.read_at).toMatch(ISO);
    }

    const back = await follow(a.client, p2.body.previous);
    expect(back.body.results.map((m: { id: number }) => m.id)).toEqual(newestFirst.slice(0, 50));
    expect(back.body.previous).toBeNull();
    expect(back.body.next).not.toBeNull();
  });

  it('answers 400 {detail: "Invalid cursor"} for a bad cursor', async () => {
    const [a, b, c] = await Promise.all([s.user('cursor-a'), s.user('cursor-b'), s.user('cursor-c')]);
    await send(a, b, 'ab');
    const other = (await send(a, c, 'ac')).body;
    const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
    const bad = [
      '',
      '!!!',
      'not-base64-json',
      b64('hello'),
      b64({ d: 'x', m: 1 }),
      b64({ d: 'n' }),
      b64({ d: 'n', m: 1, extra: true }),
      b64({ d: 'n', m: -1 }),
      'A'.repeat(2000),
    ];
    for (const cursor of bad) {
      for (const path of ['/api/dm/conversations/', `/api/dm/conversations/${b.id}/`]) {
        const r = await a.client.get(`${path}?cursor=${encodeURIComponent(cursor)}`);
        expect(r.status, `${path} ${cursor}`).toBe(400);
        expect(r.body, `${path} ${cursor}`).toEqual({ detail: 'Invalid cursor' });
      }
    }
    // Well-formed, but pointing at nothing of this list.
    // (A partner cursor is a position in the list — a user id — so one past every
    // partner is a valid, empty page, not an error.)
    const past = await a.client.get(`/api/dm/conversations/?cursor=${b64({ d: 'n', u: 1 })}`);
    expect(past.status).toBe(200);
    expect(past.body.results).toEqual([]);
    const elsewhere = [
      ['/api/dm/conversations/', b64({ d: 'n', m: 1 })],
      [`/api/dm/conversations/${b.id}/`, b64({ d: 'n', m: other.id })],
      [`/api/dm/conversations/${b.id}/`, b64({ d: 'p', m: 999_999 })],
      [`/api/dm/conversations/${b.id}/`, b64({ d: 'n', t: 0, i: 1 })],
    ];
    for (const [path, cursor] of elsewhere) {
      const r = await a.client.get(`${path}?cursor=${cursor}`);
      expect(r.status, `${path} ${cursor}`).toBe(400);
      expect(r.body).toEqual({ detail: 'Invalid cursor' });
    }
  });
});

describe('recipient whitelist (DIRECTMESSAGES_ALLOWED_RECIPIENTS)', () => {
  it('lets listed users message anyone and others only listed users, with 400 {detail}', async () => {
    // A fresh database numbers users 1, 2, 3… in registration order.
    const w = await startServer({ allowedRecipients: [1] });
    try {
      const staff = await w.user('staff');
      const alice = await w.user('w-alice');
      const bob = await w.user('w-bob');
      expect([staff.id, alice.id, bob.id]).toEqual([1, 2, 3]);
      const dm = (from: TestUser, to: TestUser, via: 'send' | 'conversations') =>
        from.client.post(`/api/dm/${via}/${to.id}/`, { content: `${from.username} → ${to.username}` });

      for (const via of ['send', 'conversations'] as const) {
        expect((await dm(alice, staff, via)).status).toBe(201);
        expect((await dm(staff, bob, via)).status).toBe(201);
        expect((await dm(bob, staff, via)).status).toBe(201);
        for (const [from, to] of [
          [alice, bob],
          [bob, alice],
        ] as const) {
          const r = await dm(from, to, via);
          expect(r.status, `${via} ${from.username} → ${to.username}`).toBe(400);
          expect(r.body).toEqual({ detail: "['You are not allowed to message this user.']" });
        }
      }
      // Nothing was stored for the refused pair.
      expect((await alice.client.get(`/api/dm/conversations/${bob.id}/`)).body.results).toEqual([]);
      expect((await alice.client.get('/api/dm/conversations/')).body.results.map((p: { id: number }) => p.id)).toEqual([staff.id]);
    } finally {
      await w.close();
    }
  });
});

describe('one conversation for every face', () => {
  it('a DM sent through /api/dm/ is the core DM, and core messages show up in /api/dm/', async () => {
    const [a, b] = await Promise.all([s.user('core-a'), s.user('core-b')]);
    const sent = (await send(a, b, 'via dm api')).body;
    const { core } = s.app;
    const [userA, userB] = await Promise.all([core.users.get(a.id), core.users.get(b.id)]);
    if (!userA || !userB) throw new Error('users missing');

    const list = await core.conversations.list(userB, { limit: 10, kinds: ['dm'] });
    expect(list.items).toHaveLength(1);
    const [item] = list.items;
    expect(item?.members.map((m) => m.userId).sort()).toEqual([a.id, b.id].sort());
    expect(item?.lastMessage).toMatchObject({ id: sent.id, content: 'via dm api', senderId: a.id });
    expect(item?.unreadCount).toBe(1);

    const { conversation } = await core.conversations.openDm(userB, a.id);
    expect(conversation.id).toBe(item?.conversation.id);
    const { message } = await core.messages.send(userB, conversation.id, { content: 'via core' });
    const seen = (await messages(a, b)).body.results;
    expect(seen[0]).toMatchObject({ id: message.id, content: 'via core', direction: 'in', sender: b.id, recipient: a.id });
    expect(seen[1]).toMatchObject({ id: sent.id, direction: 'out' });
  });
});

describe('OpenAPI', () => {
  it('documents every /api/dm/ route with the dm tag, a summary and its responses', async () => {
    const r = await s.anon.get('/api/schema/');
    expect(r.status).toBe(200);
    const paths = r.body.paths as Record<string, Record<string, { tags?: string[]; summary?: string; responses?: Record<string, unknown> }>>;
    const expected: [string, string, string][] = [
      ['/api/dm/unread/', 'get', '200'],
      ['/api/dm/conversations/', 'get', '200'],
      ['/api/dm/conversations/unread/', 'get', '200'],
      ['/api/dm/conversations/{id}/', 'get', '200'],
      ['/api/dm/conversations/{id}/', 'post', '201'],
      ['/api/dm/send/{id}/', 'post', '201'],
      ['/api/dm/messages/{id}/', 'delete', '204'],
    ];
    for (const [path, method, ok] of expected) {
      const op = paths[path]?.[method];
      expect(op, `${method} ${path}`).toBeDefined();
      expect(op?.tags).toEqual(['dm']);
      expect(op?.summary).toBeTruthy();
      expect(Object.keys(op?.responses ?? {})).toEqual(expect.arrayContaining([ok, '400', '403', '404']));
      expect(Object.keys(op?.responses ?? {})).not.toContain('401');
    }
  });
});

describe('per-message read state, and how /messages/api/ sees the same DM', () => {
  it('a reply does not read earlier messages here; /messages/api/ counts them read (its cursor moves on send)', async () => {
    const [a, b] = await Promise.all([s.user('rs-a'), s.user('rs-b')]);
    const m1 = (await send(b, a, 'one')).body;
    const m2 = (await send(b, a, 'two')).body;
    await send(a, b, 'a reply, without reading');
    expect(await unread(a)).toBe(2);
    expect((await a.client.get('/api/dm/conversations/unread/')).body).toEqual([{ partner_id: b.id, partner_username: 'rs-b', unread_count: 2 }]);
    // b's view of its messages: still unread by a.
    const bSees = (await messages(b, a)).body.results;
    expect(bSees.filter((m: { id: number }) => [m1.id, m2.id].includes(m.id)).map((m: { read_at: string | null }) => m.read_at)).toEqual([null, null]);

    // /messages/api/ has one read cursor per member, and sending moves it: nothing unread there.
    const chatId = (await a.client.get(`/messages/api/messages/${m1.id}/`)).body.chat;
    const chats = (await a.client.get('/messages/api/chats/')).body.results;
    expect(chats.find((c: { id: number }) => c.id === chatId).unread_count).toBe(0);

    // Reading in /messages/api/ (mark-as-read up to m1) reads m1 here too, and only m1.
    expect((await a.client.post(`/messages/api/chats/${chatId}/mark-as-read/`, { message_id: m1.id })).status).toBe(200);
    expect(await unread(a)).toBe(1);
    // Reading here reads the rest, in both views.
    await messages(a, b);
    expect(await unread(a)).toBe(0);
    const after = (await messages(b, a)).body.results;
    for (const m of after.filter((x: { sender: number }) => x.sender === b.id)) expect(m.read_at).toMatch(ISO);
  });

  it('read_at is when each message was read, not when the conversation was last read', async () => {
    const [a, b] = await Promise.all([s.user('rt-a'), s.user('rt-b')]);
    const first = (await send(b, a, 'early')).body;
    await messages(a, b);
    await sleep(20);
    const second = (await send(b, a, 'late')).body;
    await messages(a, b);
    const seen = (await messages(b, a)).body.results as { id: number; read_at: string }[];
    const t1 = Date.parse(seen.find((m) => m.id === first.id)?.read_at ?? '');
    const t2 = Date.parse(seen.find((m) => m.id === second.id)?.read_at ?? '');
    expect(t1).toBeLessThan(t2);
    // Reading once more changes neither.
    await sleep(5);
    await messages(a, b);
    const again = (await messages(b, a)).body.results as { id: number; read_at: string }[];
    expect(again.map((m) => m.read_at)).toEqual(seen.map((m) => m.read_at));
  });

  it('takes urlencoded and multipart bodies as the package does', async () => {
    const [a, b] = await Promise.all([s.user('form-a'), s.user('form-b')]);
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const sent = await a.client.post(`/api/dm/send/${b.id}/`, 'content=Hello+from+a+form', form);
    expect(sent.status).toBe(201);
    expect(sent.body.content).toBe('Hello from a form');
    const conv = await a.client.post(`/api/dm/conversations/${b.id}/`, 'content=again', form);
    expect(conv.status).toBe(201);
    expect(conv.body.map((m: { content: string }) => m.content)).toEqual(['again', 'Hello from a form']);
    const empty = await a.client.post(`/api/dm/send/${b.id}/`, 'content=', form);
    expect(empty.status).toBe(400);
    expect(empty.body).toEqual({ detail: 'content is required' });
    // A multipart form's file parts are ignored, as the package's views read fields only.
    const withFile = new FormData();
    withFile.append('content', 'a form with a file');
    withFile.append('upload', new Blob(['x'.repeat(10_000)]), 'notes.txt');
    const r = await fetch(`${s.url}/api/dm/send/${b.id}/`, { method: 'POST', headers: { authorization: `Token ${a.token}` }, body: withFile });
    expect(r.status).toBe(201);
    expect(await r.json()).toMatchObject({ content: 'a form with a file', attachments: [] });
  });
});
