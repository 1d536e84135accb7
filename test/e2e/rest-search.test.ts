import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer, TestUser } from './harness.js';
import { API, createChat, createGroup, expectInvalid, expectNoLeak, expectStatus, ids, newUser, send, startRestServer } from './rest-fixtures.js';

let s: TestServer;
beforeAll(async () => {
  s = await startRestServer();
});
afterAll(() => s.close());

const search = (u: TestUser, q: string, extra = '') => u.client.get(`${API}/search/?q=${encodeURIComponent(q)}${extra}`);

/** The highlighted snippet with its <mark> tags removed must hold no markup at all. */
function expectSafeHtml(highlighted: string): void {
  const withoutMarks = highlighted.replaceAll('<mark>', '').replaceAll('</mark>', '');
  expect(withoutMarks).not.toMatch(/[<>]/);
  expect(withoutMarks).not.toMatch(/&(?!(amp|lt|gt|quot|#39);)/);
}

describe('GET /search/?q=', () => {
  let a: TestUser;
  let b: TestUser;
  let outsider: TestUser;
  let shared: any;
  let private_: any;
  beforeAll(async () => {
    a = await newUser(s, 'sa', { display_name: 'Search A' });
    b = await newUser(s, 'sb');
    outsider = await newUser(s, 'so');
    shared = await createGroup(a, [b], 'Shared');
    private_ = await createChat(a, { chat_type: 'dm', member_ids: [outsider.id] });
  });

  it('returns matches with <mark> highlights and the seed-like fields', async () => {
    const m = await send(a, shared.id, 'the zebra crossing is closed');
    const r = await search(b, 'zebra');
    expectStatus(r, 200);
    expect(r.body.count).toBe(1);
    expect(r.body.results).toHaveLength(1);
    expect(r.body.results[0]).toMatchObject({
      id: m.id,
      chat: shared.id,
      content: 'the zebra crossing is closed',
      highlighted: 'the <mark>zebra</mark> crossing is closed',
      created_at: m.created_at,
      sender: { id: a.id, username: a.username, display_name: 'Search A' },
    });
  });

  it('only returns messages from chats the user is in', async () => {
    await send(a, private_.id, 'walrus secret plans');
    await send(a, shared.id, 'walrus public notes');
    const forB = await search(b, 'walrus');
    expect(forB.body.results.map((r: any) => r.content)).toEqual(['walrus public notes']);
    const forOutsider = await search(outsider, 'walrus');
    expect(forOutsider.body.results.map((r: any) => r.content)).toEqual(['walrus secret plans']);
    const forA = await search(a, 'walrus');
    expect(forA.body.count).toBe(2);

    // Someone who is in no chat with the match finds nothing.
    const stranger = await newUser(s, 'stranger');
    expect((await search(stranger, 'walrus')).body).toEqual({ count: 0, results: [] });
  });

  it('follows membership: added members find, removed members no longer find', async () => {
    const c = await newUser(s, 'sc');
    const g = await createGroup(a, [], 'Membership');
    await send(a, g.id, 'platypus meeting');
    expect((await search(c, 'platypus')).body.count).toBe(0);
    await a.client.post(`${API}/chats/${g.id}/members/add/`, { user_ids: [c.id] });
    expect((await search(c, 'platypus')).body.count).toBe(1);
    await c.client.post(`${API}/chats/${g.id}/leave/`);
    expect((await search(c, 'platypus')).body.count).toBe(0);
  });

  it('escapes HTML: <img src=x onerror=alert(1)> never comes back unescaped in highlighted', async () => {
    const payload = '<img src=x onerror=alert(1)>';
    const m = await send(a, shared.id, `look ${payload} here`);
    for (const q of ['onerror', 'img', 'alert', 'look']) {
      const r = await search(b, q);
      const hit = r.body.results.find((x: any) => x.id === m.id);
      expect(hit, `query ${q}`).toBeDefined();
      expect(hit.highlighted).not.toContain('<img');
      expect(hit.highlighted).toContain('&lt;');
      expectSafeHtml(hit.highlighted);
      // The raw content is returned as data, unchanged.
      expect(hit.content).toBe(`look ${payload} here`);
    }
    const r = await search(b, 'onerror');
    expect(r.body.results.find((x: any) => x.id === m.id).highlighted).toBe(
      'look &lt;img src=x <mark>onerror</mark>=alert(1)&gt; here',
    );
  });

  it('escapes quotes, ampersands and a typed <mark>, and ignores forged highlight markers', async () => {
    const m = await send(a, shared.id, 'tom & "jerry" <mark>fake</mark> \u{E000}forged\u{E001} quokka');
    const r = await search(b, 'quokka');
    const hit = r.body.results.find((x: any) => x.id === m.id);
    expect(hit.highlighted).toBe('tom &amp; &quot;jerry&quot; &lt;mark&gt;fake&lt;/mark&gt; forged <mark>quokka</mark>');
    expect(hit.highlighted.match(/<mark>/g)).toHaveLength(1);
  });

  it('matches a "quoted phrase" only with its words together and in order', async () => {
    const g = await createGroup(a, [b], 'Phrases');
    const together = await send(a, g.id, 'we need two words here');
    await send(a, g.id, 'words two reversed here');
    await send(a, g.id, 'two other unrelated words');
    const r = await search(b, '"two words"');
    expectStatus(r, 200);
    expect(ids(r.body.results)).toEqual([together.id]);
    expect(r.body.results[0].highlighted).toBe('we need <mark>two words</mark> here');
    // Without quotes all three match (both words anywhere).
    expect((await search(b, 'two words')).body.count).toBe(3);
  });

  it('matches prefixes: word* and the last word typed', async () => {
    const g = await createGroup(a, [b], 'Prefixes');
    const hello = await send(a, g.id, 'helloworld greeting');
    const help = await send(a, g.id, 'helpdesk ticket');
    await send(a, g.id, 'unrelated halo');
    const star = await search(b, 'helpd*');
    expect(ids(star.body.results)).toEqual([help.id]);
    const typed = await search(b, 'hel');
    expect(ids(typed.body.results).sort()).toEqual([hello.id, help.id].sort());
    expect(star.body.results[0].highlighted).toContain('<mark>helpdesk</mark>');
    // A word that is not last and has no * must match whole.
    expect((await search(b, 'hel greeting')).body.count).toBe(0);
    expect(ids((await search(b, 'hel* greeting')).body.results)).toEqual([hello.id]);
  });

  it('sees edits and deletions', async () => {
    const g = await createGroup(a, [b], 'Edits');
    const m = await send(a, g.id, 'original narwhal');
    await a.client.patch(`${API}/messages/${m.id}/`, { content: 'edited manatee' });
    expect((await search(b, 'narwhal')).body.count).toBe(0);
    expect(ids((await search(b, 'manatee')).body.results)).toEqual([m.id]);
    await a.client.delete(`${API}/messages/${m.id}/`);
    expect((await search(b, 'manatee')).body.count).toBe(0);
  });

  it('honours limit, and validates q and limit', async () => {
    const g = await createGroup(a, [b], 'Limit');
    for (let i = 0; i < 4; i++) await send(a, g.id, `capybara number ${i}`);
    expect((await search(b, 'capybara')).body.count).toBe(4);
    const one = await search(b, 'capybara', '&limit=2');
    expect(one.body.results).toHaveLength(2);
    expectInvalid(await b.client.get(`${API}/search/`), 'q');
    expectInvalid(await b.client.get(`${API}/search/?q=`), 'q');
    expectInvalid(await search(b, '***'), 'q');
    expectInvalid(await search(b, 'x', '&limit=0'), 'limit');
    expectInvalid(await search(b, 'x', '&limit=101'), 'limit');
  });

  it('treats search syntax in user input as text: no 500, no SQL in errors', async () => {
    for (const q of ['NEAR(a b)', 'a OR b', '"unterminated', 'col:value', "'; DROP TABLE messages; --", '^start', 'a AND', '(x', '-minus', '"" ""']) {
      const r = await search(b, q);
      expect([200, 400], `q=${q}: ${r.text}`).toContain(r.status);
      expectNoLeak(r);
    }
  });
});
