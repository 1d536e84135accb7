import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer, TestUser } from './harness.js';
import { API, createChat, createGroup, expectInvalid, expectStatus, ids, newUser, send, startRestServer } from './rest-fixtures.js';

let s: TestServer;
beforeAll(async () => {
  s = await startRestServer();
});
afterAll(() => s.close());

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

describe('GET /chats/ (list)', () => {
  it('lists the chats of the user with the seed fields: last_message with sender, unread_count, members', async () => {
    const ann = await newUser(s, 'ann', { display_name: 'Ann Lister' });
    const bob = await newUser(s, 'bob', { display_name: 'Bob Lister' });
    const dm = await createChat(ann, { chat_type: 'dm', member_ids: [bob.id] });
    await send(bob, dm.id, 'first');
    const last = await send(bob, dm.id, 'Hello!');

    const r = await ann.client.get(`${API}/chats/`);
    expectStatus(r, 200);
    expect(Object.keys(r.body).sort()).toEqual(['count', 'next', 'previous', 'results']);
    expect(r.body.count).toBe(1);
    expect(r.body.next).toBeNull();
    expect(r.body.previous).toBeNull();
    const item = r.body.results[0];
    expect(item).toMatchObject({
      id: dm.id,
      title: 'Bob Lister',
      chat_type: 'dm',
      unread_count: 2,
      last_message: {
        id: last.id,
        content: 'Hello!',
        created_at: last.created_at,
        sender: { id: bob.id, username: bob.username, display_name: 'Bob Lister' },
      },
    });
    expect(item.created_at).toMatch(ISO);
    expect(item.updated_at).toMatch(ISO);
    expect(typeof item.last_message.sender.avatar_url).toBe('string');
    expect(ids(item.members).sort((a, b) => a - b)).toEqual([ann.id, bob.id].sort((a, b) => a - b));
    for (const m of item.members) expect(Object.keys(m).sort()).toEqual(['avatar_url', 'display_name', 'id', 'username']);

    // The sender's own messages are never unread for them; the DM is titled with the partner.
    const forBob = await bob.client.get(`${API}/chats/`);
    expect(forBob.body.results[0]).toMatchObject({ id: dm.id, title: 'Ann Lister', unread_count: 0 });
  });

  it('shows last_message null and unread_count 0 for an empty chat, and only the user\'s own chats', async () => {
    const owner = await newUser(s, 'own');
    const other = await newUser(s, 'oth');
    const g = await createGroup(owner, [], 'Empty room');
    await createGroup(other, [], 'Someone else');
    const r = await owner.client.get(`${API}/chats/`);
    expect(r.body.count).toBe(1);
    expect(r.body.results).toHaveLength(1);
    expect(r.body.results[0]).toMatchObject({ id: g.id, title: 'Empty room', last_message: null, unread_count: 0 });
  });

  it('pages by chatsPerPage (10): 12 chats give 10 + next, then 2 + previous', async () => {
    const u = await newUser(s, 'pager');
    const created: number[] = [];
    for (let i = 0; i < 12; i++) created.push((await createGroup(u, [], `Paged ${i}`)).id);

    const p1 = await u.client.get(`${API}/chats/`);
    expectStatus(p1, 200);
    expect(p1.body.count).toBe(12);
    expect(p1.body.results).toHaveLength(10);
    expect(p1.body.previous).toBeNull();
    expect(p1.body.next).toBe(`${s.url}${API}/chats/?page=2`);

    const p2 = await u.client.get(`${API}/chats/?page=2`);
    expectStatus(p2, 200);
    expect(p2.body.count).toBe(12);
    expect(p2.body.results).toHaveLength(2);
    expect(p2.body.next).toBeNull();
    expect(p2.body.previous).toBe(`${s.url}${API}/chats/`);

    // Following the links visits every chat once, newest activity first.
    const seen = [...ids(p1.body.results), ...ids(p2.body.results)];
    expect(seen).toEqual([...created].reverse());

    const p3 = await u.client.get(`${API}/chats/?page=3`);
    expectStatus(p3, 200);
    expect(p3.body.results).toEqual([]);
    expect(p3.body.count).toBe(12);
  });

  it('keeps the search parameter in the page links', async () => {
    const u = await newUser(s, 'linker');
    for (let i = 0; i < 11; i++) await createGroup(u, [], `Linked ${i}`);
    const r = await u.client.get(`${API}/chats/?search=linked`);
    expect(r.body.count).toBe(11);
    const next = new URL(r.body.next);
    expect(next.searchParams.get('search')).toBe('linked');
    expect(next.searchParams.get('page')).toBe('2');
  });

  it('rejects a bad page number with 400', async () => {
    const u = await newUser(s, 'badpage');
    expectInvalid(await u.client.get(`${API}/chats/?page=0`), 'page');
    expectInvalid(await u.client.get(`${API}/chats/?page=abc`), 'page');
  });

  it('orders by latest activity: a new message moves a chat to the top', async () => {
    const u = await newUser(s, 'order');
    const a = await createGroup(u, [], 'Order A');
    const b = await createGroup(u, [], 'Order B');
    const c = await createGroup(u, [], 'Order C');
    let r = await u.client.get(`${API}/chats/`);
    expect(ids(r.body.results)).toEqual([c.id, b.id, a.id]);
    await send(u, a.id, 'bump');
    r = await u.client.get(`${API}/chats/`);
    expect(ids(r.body.results)).toEqual([a.id, c.id, b.id]);
    await send(u, b.id, 'bump');
    r = await u.client.get(`${API}/chats/`);
    expect(ids(r.body.results)).toEqual([b.id, a.id, c.id]);
  });

  it('searches by title and by member name (username or display name), case-insensitively', async () => {
    const u = await newUser(s, 'searcher');
    const zelda = await newUser(s, 'zelda', { display_name: 'Zelda Hyrule' });
    const link = await newUser(s, 'linkhero', { display_name: 'Hero of Time' });
    const g1 = await createGroup(u, [], 'Quarterly Planning');
    const g2 = await createGroup(u, [link], 'Misc');
    const dm = await createChat(u, { chat_type: 'dm', member_ids: [zelda.id] });

    const byTitle = await u.client.get(`${API}/chats/?search=quarterly`);
    expect(ids(byTitle.body.results)).toEqual([g1.id]);
    expect(byTitle.body.count).toBe(1);

    const byDisplay = await u.client.get(`${API}/chats/?search=${encodeURIComponent('HYRULE')}`);
    expect(ids(byDisplay.body.results)).toEqual([dm.id]);

    const byUsername = await u.client.get(`${API}/chats/?search=${link.username}`);
    expect(ids(byUsername.body.results)).toEqual([g2.id]);

    const byDisplay2 = await u.client.get(`${API}/chats/?search=${encodeURIComponent('of time')}`);
    expect(ids(byDisplay2.body.results)).toEqual([g2.id]);

    const none = await u.client.get(`${API}/chats/?search=nomatchwhatsoever`);
    expect(none.body).toMatchObject({ count: 0, results: [], next: null, previous: null });

    // LIKE wildcards are literal characters, not patterns.
    const pct = await u.client.get(`${API}/chats/?search=${encodeURIComponent('%')}`);
    expect(pct.body.count).toBe(0);
    const underscore = await u.client.get(`${API}/chats/?search=_`);
    expect(underscore.body.count).toBe(0);

    // A blank search is no filter.
    const blank = await u.client.get(`${API}/chats/?search=%20%20`);
    expect(blank.body.count).toBe(3);
  });

  it('updated_at reflects the latest activity, as in the seed example (updated_at == last_message.created_at)', async () => {
    const u = await newUser(s, 'upd');
    const g = await createGroup(u, [], 'Updated at');
    const m = await send(u, g.id, 'later');
    const r = await u.client.get(`${API}/chats/`);
    const item = r.body.results.find((c: any) => c.id === g.id);
    expect(Date.parse(item.updated_at)).toBeGreaterThanOrEqual(Date.parse(m.created_at));
  });
});

describe('POST /chats/ (create)', () => {
  let ann: TestUser;
  let bob: TestUser;
  let cat: TestUser;
  beforeAll(async () => {
    ann = await newUser(s, 'cann', { display_name: 'Ann Creator' });
    bob = await newUser(s, 'cbob', { display_name: 'Bob Creator' });
    cat = await newUser(s, 'ccat');
  });

  it('creates a group with 201; the creator is its admin', async () => {
    const r = await ann.client.post(`${API}/chats/`, { chat_type: 'group', title: 'Project Team', member_ids: [bob.id, cat.id] });
    expectStatus(r, 201);
    expect(r.body).toMatchObject({ title: 'Project Team', chat_type: 'group', admins: [ann.id], member_count: 3, is_member: true, is_public: false });
    expect(r.body.id).toEqual(expect.any(Number));
    expect(r.body.created_at).toMatch(ISO);
    expect(ids(r.body.members).sort()).toEqual([ann.id, bob.id, cat.id].sort());

    const detail = await bob.client.get(`${API}/chats/${r.body.id}/`);
    expectStatus(detail, 200);
    expect(detail.body.admins).toEqual([ann.id]);
  });

  it('creates a DM with 201, then returns the same DM with 200 from either side', async () => {
    const dan = await newUser(s, 'dan');
    const first = await ann.client.post(`${API}/chats/`, { chat_type: 'dm', member_ids: [dan.id] });
    expectStatus(first, 201);
    expect(first.body).toMatchObject({ chat_type: 'dm', member_count: 2 });
    const again = await ann.client.post(`${API}/chats/`, { chat_type: 'dm', member_ids: [dan.id] });
    expectStatus(again, 200);
    expect(again.body.id).toBe(first.body.id);
    const other = await dan.client.post(`${API}/chats/`, { chat_type: 'dm', member_ids: [ann.id] });
    expectStatus(other, 200);
    expect(other.body.id).toBe(first.body.id);
    expect(other.body.title).toBe('Ann Creator');
    // Listing the creator themself too is the same DM.
    const withSelf = await ann.client.post(`${API}/chats/`, { chat_type: 'dm', member_ids: [ann.id, dan.id] });
    expectStatus(withSelf, 200);
    expect(withSelf.body.id).toBe(first.body.id);
  });

  it('refuses a DM with zero, two, or only-self others with 400 details.member_ids', async () => {
    expectInvalid(await ann.client.post(`${API}/chats/`, { chat_type: 'dm', member_ids: [] }), 'member_ids');
    expectInvalid(await ann.client.post(`${API}/chats/`, { chat_type: 'dm' }), 'member_ids');
    expectInvalid(await ann.client.post(`${API}/chats/`, { chat_type: 'dm', member_ids: [bob.id, cat.id] }), 'member_ids');
    expectInvalid(await ann.client.post(`${API}/chats/`, { chat_type: 'dm', member_ids: [ann.id] }), 'member_ids');
  });

  it('refuses an unknown member id in a group with 400 {error, details: {member_ids}}', async () => {
    const r = await ann.client.post(`${API}/chats/`, { chat_type: 'group', title: 'X', member_ids: [bob.id, 987654] });
    expectInvalid(r, 'member_ids');
    expect(r.body.details.member_ids[0]).toContain('987654');
    expect(Object.keys(r.body).sort()).toEqual(['details', 'error']);
  });

  it('refuses a DM with an unknown user id with 400 details.member_ids, like a group', async () => {
    const r = await ann.client.post(`${API}/chats/`, { chat_type: 'dm', member_ids: [987655] });
    expectInvalid(r, 'member_ids');
  });

  it('validates the body: chat_type required and known, unknown fields and wrong types refused', async () => {
    const missing = await ann.client.post(`${API}/chats/`, { title: 'x' });
    expectInvalid(missing, 'chat_type');
    expect(missing.body.details.chat_type).toEqual(['This field is required.']);
    expectInvalid(await ann.client.post(`${API}/chats/`, { chat_type: 'party' }), 'chat_type');
    expectInvalid(await ann.client.post(`${API}/chats/`, { chat_type: 'group', colour: 'red' }), 'colour');
    expectInvalid(await ann.client.post(`${API}/chats/`, { chat_type: 'group', member_ids: 'all' }), 'member_ids');
    expectInvalid(await ann.client.post(`${API}/chats/`, { chat_type: 'group', member_ids: ['2'] }), 'member_ids.0');
    expectInvalid(await ann.client.post(`${API}/chats/`, { chat_type: 'group', title: 'x'.repeat(201) }), 'title');
    expectInvalid(await ann.client.post(`${API}/chats/`, { chat_type: 'channel' }), 'title');
  });

  it('ignores duplicate member ids and the creator listed as a member', async () => {
    const r = await ann.client.post(`${API}/chats/`, { chat_type: 'group', title: 'Dups', member_ids: [bob.id, bob.id, ann.id] });
    expectStatus(r, 201);
    expect(r.body.member_count).toBe(2);
    expect(r.body.admins).toEqual([ann.id]);
  });

  it('creates a group without other members and an untitled group titled by its members', async () => {
    const solo = await ann.client.post(`${API}/chats/`, { chat_type: 'group' });
    expectStatus(solo, 201);
    expect(solo.body).toMatchObject({ member_count: 1, admins: [ann.id] });
    const untitled = await ann.client.post(`${API}/chats/`, { chat_type: 'group', member_ids: [bob.id] });
    expectStatus(untitled, 201);
    expect(untitled.body.title).toBe('Bob Creator');
  });

  it('creates channels (private unless is_public) and rooms (public) with the creator as admin', async () => {
    const ch = await ann.client.post(`${API}/chats/`, { chat_type: 'channel', title: 'News' });
    expectStatus(ch, 201);
    expect(ch.body).toMatchObject({ chat_type: 'channel', is_public: false, admins: [ann.id] });
    const pub = await ann.client.post(`${API}/chats/`, { chat_type: 'channel', title: 'Public news', is_public: true });
    expect(pub.body.is_public).toBe(true);
    const room = await ann.client.post(`${API}/chats/`, { chat_type: 'room', title: 'Lobby' });
    expectStatus(room, 201);
    expect(room.body).toMatchObject({ chat_type: 'room', is_public: true, admins: [ann.id] });
    // A group is never public.
    const g = await ann.client.post(`${API}/chats/`, { chat_type: 'group', title: 'Closed', is_public: true });
    expect(g.body.is_public).toBe(false);
  });
});

describe('GET /chats/{id}/ (detail)', () => {
  it('returns id, title, chat_type, created_at, updated_at, members, admins', async () => {
    const a = await newUser(s, 'da', { display_name: 'Detail A' });
    const b = await newUser(s, 'db');
    const g = await createGroup(a, [b], 'Detail group');
    const r = await b.client.get(`${API}/chats/${g.id}/`);
    expectStatus(r, 200);
    expect(r.body).toMatchObject({ id: g.id, title: 'Detail group', chat_type: 'group', admins: [a.id], member_count: 2, is_member: true });
    for (const k of ['id', 'title', 'chat_type', 'created_at', 'updated_at', 'members', 'admins']) expect(r.body).toHaveProperty(k);
    expect(r.body.members.find((m: any) => m.id === a.id)).toMatchObject({ username: a.username, display_name: 'Detail A' });
  });

  it('answers 404 for an unknown chat', async () => {
    const a = await newUser(s, 'd404');
    const r = await a.client.get(`${API}/chats/999999/`);
    expectStatus(r, 404);
    expect(r.body).toEqual({ detail: 'Not found.' });
  });
});

describe('PUT / PATCH /chats/{id}/ (rename)', () => {
  it('renames with PUT and with PATCH (200, the detail with the new title)', async () => {
    const a = await newUser(s, 'ren');
    const b = await newUser(s, 'renb');
    const g = await createGroup(a, [b], 'Old');
    const put = await a.client.put(`${API}/chats/${g.id}/`, { title: 'New Chat Title' });
    expectStatus(put, 200);
    expect(put.body).toMatchObject({ id: g.id, title: 'New Chat Title', admins: [a.id] });
    const patch = await a.client.patch(`${API}/chats/${g.id}/`, { title: '  Trimmed  ' });
    expectStatus(patch, 200);
    expect(patch.body.title).toBe('Trimmed');
    const seen = await b.client.get(`${API}/chats/${g.id}/`);
    expect(seen.body.title).toBe('Trimmed');
    const listed = await b.client.get(`${API}/chats/`);
    expect(listed.body.results.find((c: any) => c.id === g.id).title).toBe('Trimmed');
  });

  it('renames a DM (allowRenamingDms is on by default) for both sides', async () => {
    const a = await newUser(s, 'rdm');
    const b = await newUser(s, 'rdmb');
    const dm = await createChat(a, { chat_type: 'dm', member_ids: [b.id] });
    const r = await b.client.patch(`${API}/chats/${dm.id}/`, { title: 'Our chat' });
    expectStatus(r, 200);
    expect((await a.client.get(`${API}/chats/${dm.id}/`)).body.title).toBe('Our chat');
  });

  it('validates the rename body', async () => {
    const a = await newUser(s, 'renv');
    const g = await createGroup(a, [], 'V');
    expectInvalid(await a.client.patch(`${API}/chats/${g.id}/`, { title: 5 }), 'title');
    expectInvalid(await a.client.patch(`${API}/chats/${g.id}/`, { name: 'x' }), 'name');
    expectInvalid(await a.client.put(`${API}/chats/${g.id}/`, { title: 'y'.repeat(201) }), 'title');
    expectInvalid(await a.client.patch(`${API}/chats/${g.id}/`, { is_public: true }), 'is_public');
  });
});

describe('DELETE /chats/{id}/', () => {
  it('deletes with 204 and no body; the chat is then gone for everyone', async () => {
    const a = await newUser(s, 'del');
    const b = await newUser(s, 'delb');
    const g = await createGroup(a, [b], 'Doomed');
    const m = await send(b, g.id, 'bye');
    const r = await a.client.delete(`${API}/chats/${g.id}/`);
    expect(r.status).toBe(204);
    expect(r.text).toBe('');
    expectStatus(await a.client.get(`${API}/chats/${g.id}/`), 404);
    expectStatus(await b.client.get(`${API}/chats/${g.id}/`), 404);
    expectStatus(await b.client.get(`${API}/messages/${m.id}/`), 404);
    expect(ids((await b.client.get(`${API}/chats/`)).body.results)).not.toContain(g.id);
    expectStatus(await a.client.delete(`${API}/chats/${g.id}/`), 404);
  });

  it('refuses to delete a DM (403)', async () => {
    const a = await newUser(s, 'deldm');
    const b = await newUser(s, 'deldmb');
    const dm = await createChat(a, { chat_type: 'dm', member_ids: [b.id] });
    const r = await a.client.delete(`${API}/chats/${dm.id}/`);
    expectStatus(r, 403);
    expect(typeof r.body.detail).toBe('string');
  });
});

describe('more create/list details', () => {
  it('a DM with a user without a display name is titled with their username', async () => {
    const a = await newUser(s, 'plain');
    const b = await newUser(s, 'plainb');
    const dm = await createChat(a, { chat_type: 'dm', member_ids: [b.id] });
    expect(dm.title).toBe(b.username);
    expect(dm.admins).toEqual([]);
  });

  it('clearing a title (null or blank) falls back to the members\' names', async () => {
    const a = await newUser(s, 'clr');
    const b = await newUser(s, 'clrb', { display_name: 'Clear B' });
    const g = await createGroup(a, [b], 'Named');
    const r = await a.client.patch(`${API}/chats/${g.id}/`, { title: null });
    expectStatus(r, 200);
    expect(r.body.title).toBe('Clear B');
    await a.client.patch(`${API}/chats/${g.id}/`, { title: 'Again' });
    const blank = await a.client.put(`${API}/chats/${g.id}/`, { title: '   ' });
    expect(blank.body.title).toBe('Clear B');
  });

  it('two simultaneous DM creations give one DM', async () => {
    const a = await newUser(s, 'race');
    const b = await newUser(s, 'raceb');
    const [x, y] = await Promise.all([
      a.client.post(`${API}/chats/`, { chat_type: 'dm', member_ids: [b.id] }),
      b.client.post(`${API}/chats/`, { chat_type: 'dm', member_ids: [a.id] }),
    ]);
    expect([x.status, y.status].sort()).toEqual([200, 201]);
    expect(x.body.id).toBe(y.body.id);
    expect((await a.client.get(`${API}/chats/`)).body.count).toBe(1);
  });

  it('filters the list by chat_type', async () => {
    const a = await newUser(s, 'kind');
    const b = await newUser(s, 'kindb');
    const dm = await createChat(a, { chat_type: 'dm', member_ids: [b.id] });
    await createGroup(a, [b], 'Kinds');
    const r = await a.client.get(`${API}/chats/?chat_type=dm`);
    expect(r.body.count).toBe(1);
    expect(ids(r.body.results)).toEqual([dm.id]);
    expectInvalid(await a.client.get(`${API}/chats/?chat_type=party`), 'chat_type');
  });

  it('a deleted chat\'s messages are no longer searchable', async () => {
    const a = await newUser(s, 'dsrch');
    const g = await createGroup(a, [], 'Search gone');
    await send(a, g.id, 'pangolin sighting');
    expect((await a.client.get(`${API}/search/?q=pangolin`)).body.count).toBe(1);
    await a.client.delete(`${API}/chats/${g.id}/`);
    expect((await a.client.get(`${API}/search/?q=pangolin`)).body.count).toBe(0);
  });
});

describe('routing details', () => {
  it('works without the trailing slash too', async () => {
    const a = await newUser(s, 'slash');
    expectStatus(await a.client.get(`${API}/chats`), 200);
  });
});
