import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer, TestUser } from './harness.js';
import { API, NOT_FOUND, createChat, createGroup, expectInvalid, expectStatus, ids, newUser, send, startRestServer } from './rest-fixtures.js';

let s: TestServer;
beforeAll(async () => {
  s = await startRestServer();
});
afterAll(() => s.close());

const detail = (u: TestUser, id: number) => u.client.get(`${API}/chats/${id}/`);

describe('POST /chats/{id}/members/add/', () => {
  it('adds members: {status: "success", added_count}; already-members are not counted', async () => {
    const a = await newUser(s, 'ma');
    const b = await newUser(s, 'mb');
    const c = await newUser(s, 'mc');
    const d = await newUser(s, 'md');
    const g = await createGroup(a, [b], 'Team');
    const r = await a.client.post(`${API}/chats/${g.id}/members/add/`, { user_ids: [c.id, d.id] });
    expectStatus(r, 200);
    expect(r.body).toEqual({ status: 'success', added_count: 2 });
    const again = await a.client.post(`${API}/chats/${g.id}/members/add/`, { user_ids: [a.id, b.id, c.id] });
    expect(again.body).toEqual({ status: 'success', added_count: 0 });
    const dup = await a.client.post(`${API}/chats/${g.id}/members/add/`, { user_ids: [d.id, d.id] });
    expect(dup.body).toEqual({ status: 'success', added_count: 0 });

    const det = await detail(a, g.id);
    expect(det.body.member_count).toBe(4);
    expect(ids(det.body.members).sort()).toEqual([a.id, b.id, c.id, d.id].sort());
    // New members are plain members, and can read the chat.
    expect(det.body.admins).toEqual([a.id]);
    expectStatus(await c.client.get(`${API}/chats/${g.id}/messages/`), 200);
  });

  it('a new member does not inherit the old history as unread', async () => {
    const a = await newUser(s, 'mu');
    const b = await newUser(s, 'mub');
    const g = await createGroup(a, [], 'Old history');
    await send(a, g.id, 'before you came');
    await a.client.post(`${API}/chats/${g.id}/members/add/`, { user_ids: [b.id] });
    const item = (await b.client.get(`${API}/chats/`)).body.results.find((x: any) => x.id === g.id);
    expect(item.unread_count).toBe(0);
    await send(a, g.id, 'welcome');
    const item2 = (await b.client.get(`${API}/chats/`)).body.results.find((x: any) => x.id === g.id);
    expect(item2.unread_count).toBe(1);
  });

  it('validates user_ids: unknown id, empty list, wrong types, DM', async () => {
    const a = await newUser(s, 'mv');
    const b = await newUser(s, 'mvb');
    const g = await createGroup(a, [], 'V');
    const unknown = await a.client.post(`${API}/chats/${g.id}/members/add/`, { user_ids: [b.id, 888888] });
    expectInvalid(unknown, 'user_ids');
    expect((await detail(a, g.id)).body.member_count).toBe(1);
    expectInvalid(await a.client.post(`${API}/chats/${g.id}/members/add/`, { user_ids: [] }), 'user_ids');
    expectInvalid(await a.client.post(`${API}/chats/${g.id}/members/add/`, {}), 'user_ids');
    expectInvalid(await a.client.post(`${API}/chats/${g.id}/members/add/`, { user_ids: 'all' }), 'user_ids');
    const dm = await createChat(a, { chat_type: 'dm', member_ids: [b.id] });
    const c = await newUser(s, 'mvc');
    expectInvalid(await a.client.post(`${API}/chats/${dm.id}/members/add/`, { user_ids: [c.id] }), 'user_ids');
  });
});

describe('DELETE /chats/{id}/members/{user_id}/remove/', () => {
  it('an admin removes a member with 204; the removed member loses access', async () => {
    const a = await newUser(s, 'xa');
    const b = await newUser(s, 'xb');
    const c = await newUser(s, 'xc');
    const g = await createGroup(a, [b, c], 'Removal');
    const m = await send(a, g.id, 'secret');
    const r = await a.client.delete(`${API}/chats/${g.id}/members/${b.id}/remove/`);
    expect(r.status).toBe(204);
    expect(r.text).toBe('');
    const det = await detail(a, g.id);
    expect(ids(det.body.members).sort()).toEqual([a.id, c.id].sort());
    expect((await detail(b, g.id)).body).toEqual(NOT_FOUND);
    expect((await b.client.get(`${API}/messages/${m.id}/`)).status).toBe(404);
    expect(ids((await b.client.get(`${API}/chats/`)).body.results)).not.toContain(g.id);
    // Removing someone who is not a member is 404.
    expectStatus(await a.client.delete(`${API}/chats/${g.id}/members/${b.id}/remove/`), 404);
  });

  it('a member removing themself leaves the chat', async () => {
    const a = await newUser(s, 'sa');
    const b = await newUser(s, 'sb');
    const g = await createGroup(a, [b], 'Self');
    expect((await b.client.delete(`${API}/chats/${g.id}/members/${b.id}/remove/`)).status).toBe(204);
    expectStatus(await detail(b, g.id), 404);
    expect((await detail(a, g.id)).body.member_count).toBe(1);
  });

  it('a member cannot remove someone else (403)', async () => {
    const a = await newUser(s, 'na');
    const b = await newUser(s, 'nb');
    const c = await newUser(s, 'nc');
    const g = await createGroup(a, [b, c], 'No');
    const r = await b.client.delete(`${API}/chats/${g.id}/members/${c.id}/remove/`);
    expectStatus(r, 403);
    expect(typeof r.body.detail).toBe('string');
    expectStatus(await b.client.delete(`${API}/chats/${g.id}/members/${a.id}/remove/`), 403);
    expect((await detail(a, g.id)).body.member_count).toBe(3);
  });

  it('when the last admin leaves, the longest-standing member becomes admin', async () => {
    const a = await newUser(s, 'la');
    const b = await newUser(s, 'lb');
    const c = await newUser(s, 'lc');
    const g = await createGroup(a, [b, c], 'Handover');
    expect((await a.client.delete(`${API}/chats/${g.id}/members/${a.id}/remove/`)).status).toBe(204);
    const det = await detail(b, g.id);
    expect(det.body.admins).toHaveLength(1);
    expect([b.id, c.id]).toContain(det.body.admins[0]);
    expect(det.body.members.map((m: any) => m.id)).not.toContain(a.id);
    // The new admin can act as one.
    const newAdmin = det.body.admins[0] === b.id ? b : c;
    expectStatus(await newAdmin.client.patch(`${API}/chats/${g.id}/`, { title: 'Renamed by heir' }), 200);
  });

  it('the same handover happens through POST /chats/{id}/leave/', async () => {
    const a = await newUser(s, 'lva');
    const b = await newUser(s, 'lvb');
    const g = await createGroup(a, [b], 'Leave');
    const r = await a.client.post(`${API}/chats/${g.id}/leave/`);
    expect(r.status).toBe(204);
    expect((await detail(b, g.id)).body.admins).toEqual([b.id]);
    // A second admin present means nobody is promoted.
    const c = await newUser(s, 'lvc');
    await b.client.post(`${API}/chats/${g.id}/members/add/`, { user_ids: [a.id, c.id] });
    expect((await detail(b, g.id)).body.admins).toEqual([b.id]);
    expectStatus(await c.client.post(`${API}/chats/${g.id}/leave/`), 204);
    expect((await detail(b, g.id)).body.admins).toEqual([b.id]);
  });

  it('nobody can be removed from, or leave, a DM', async () => {
    const a = await newUser(s, 'dma');
    const b = await newUser(s, 'dmb');
    const dm = await createChat(a, { chat_type: 'dm', member_ids: [b.id] });
    expectInvalid(await a.client.delete(`${API}/chats/${dm.id}/members/${b.id}/remove/`), 'user_id');
    expectInvalid(await a.client.post(`${API}/chats/${dm.id}/leave/`), 'chat');
    expect((await detail(b, dm.id)).body.member_count).toBe(2);
  });
});

describe('GET /users/search/?q=', () => {
  let me: TestUser;
  let jane: TestUser;
  beforeAll(async () => {
    me = await newUser(s, 'searchme', { display_name: 'Searching Person', email: 'me@findme.example' });
    jane = await newUser(s, 'janedoe', { display_name: 'Jane Quixotic', email: 'jane.q@corp-findme.example' });
    await newUser(s, 'unrelated', { display_name: 'Nobody Special', email: 'nobody@else.example' });
  });

  it('finds by display name, username and email (case-insensitive), with the seed fields', async () => {
    const byName = await me.client.get(`${API}/users/search/?q=quixotic`);
    expectStatus(byName, 200);
    expect(Object.keys(byName.body)).toEqual(['results']);
    expect(byName.body.results).toEqual([
      { id: jane.id, username: jane.username, display_name: 'Jane Quixotic', email: 'jane.q@corp-findme.example', avatar_url: expect.any(String) },
    ]);
    expect(ids((await me.client.get(`${API}/users/search/?q=${jane.username.toUpperCase()}`)).body.results)).toEqual([jane.id]);
    expect(ids((await me.client.get(`${API}/users/search/?q=corp-findme`)).body.results)).toEqual([jane.id]);
  });

  it('excludes the searching user', async () => {
    const r = await me.client.get(`${API}/users/search/?q=findme`);
    expectStatus(r, 200);
    expect(ids(r.body.results)).toEqual([jane.id]);
    const self = await me.client.get(`${API}/users/search/?q=${me.username}`);
    expect(self.body.results).toEqual([]);
  });

  it('treats % and _ literally', async () => {
    expectStatus(await me.client.get(`${API}/users/search/?q=_`), 200);
    expect((await me.client.get(`${API}/users/search/?q=${encodeURIComponent('%')}`)).body.results).toEqual([]);
    expect((await me.client.get(`${API}/users/search/?q=_`)).body.results).toEqual([]);
  });

  it('requires q (400 details.q)', async () => {
    const missing = await me.client.get(`${API}/users/search/`);
    expectInvalid(missing, 'q');
    expectInvalid(await me.client.get(`${API}/users/search/?q=`), 'q');
    expectInvalid(await me.client.get(`${API}/users/search/?q=%20%20`), 'q');
  });
});

describe('rooms on content objects: GET /rooms/?object=, join, leave', () => {
  it('creates the room on first request and returns the same room after', async () => {
    const a = await newUser(s, 'ra');
    const b = await newUser(s, 'rb');
    const first = await a.client.get(`${API}/rooms/?object=product:42`);
    expectStatus(first, 200);
    expect(first.body).toMatchObject({ chat_type: 'room', object: 'product:42', is_public: true, member_count: 0, is_member: false, members: [] });
    const again = await b.client.get(`${API}/rooms/?object=product:42`);
    expect(again.body.id).toBe(first.body.id);
    const trimmed = await b.client.get(`${API}/rooms/?object=${encodeURIComponent(' product:42 ')}`);
    expect(trimmed.body.id).toBe(first.body.id);
    const other = await b.client.get(`${API}/rooms/?object=product:43`);
    expect(other.body.id).not.toBe(first.body.id);
  });

  it('join answers 200 with is_member true and member_count; leave answers 204', async () => {
    const a = await newUser(s, 'ja');
    const b = await newUser(s, 'jb');
    const room = (await a.client.get(`${API}/rooms/?object=article:7`)).body;
    // Readable before joining; posting needs a join.
    expectStatus(await b.client.get(`${API}/chats/${room.id}/messages/`), 200);
    expectStatus(await b.client.post(`${API}/chats/${room.id}/messages/`, { content: 'hi' }), 403);

    const j = await a.client.post(`${API}/chats/${room.id}/join/`);
    expectStatus(j, 200);
    expect(j.body).toMatchObject({ id: room.id, is_member: true, member_count: 1 });
    const jb = await b.client.post(`${API}/chats/${room.id}/join/`);
    expect(jb.body).toMatchObject({ is_member: true, member_count: 2 });
    // Joining twice is harmless.
    const twice = await b.client.post(`${API}/chats/${room.id}/join/`);
    expect(twice.body).toMatchObject({ is_member: true, member_count: 2 });
    expect((await b.client.get(`${API}/rooms/?object=article:7`)).body).toMatchObject({ is_member: true, member_count: 2 });

    expectStatus(await b.client.post(`${API}/chats/${room.id}/messages/`, { content: 'hi' }), 201);
    expect(ids((await b.client.get(`${API}/chats/`)).body.results)).toContain(room.id);

    const l = await b.client.post(`${API}/chats/${room.id}/leave/`);
    expect(l.status).toBe(204);
    expect(l.text).toBe('');
    expect((await b.client.get(`${API}/rooms/?object=article:7`)).body).toMatchObject({ is_member: false, member_count: 1 });
    expectStatus(await b.client.post(`${API}/chats/${room.id}/messages/`, { content: 'again' }), 403);
    // Leaving when not a member is 404.
    expectStatus(await b.client.post(`${API}/chats/${room.id}/leave/`), 404);
  });

  it('refuses a bad object key with 400 details.object', async () => {
    const a = await newUser(s, 'bk');
    for (const bad of ['product', 'product:', ':42', 'pro duct:42', 'a/b:1', '<script>:1']) {
      expectInvalid(await a.client.get(`${API}/rooms/?object=${encodeURIComponent(bad)}`), 'object');
    }
    expectInvalid(await a.client.get(`${API}/rooms/`), 'object');
    expectInvalid(await a.client.get(`${API}/rooms/?object=`), 'object');
  });

  it('a private group or channel cannot be joined by an outsider (404)', async () => {
    const a = await newUser(s, 'pa');
    const o = await newUser(s, 'po');
    const g = await createGroup(a, [], 'Private');
    expect((await o.client.post(`${API}/chats/${g.id}/join/`)).body).toEqual(NOT_FOUND);
    const ch = await createChat(a, { chat_type: 'channel', title: 'Private channel' });
    expect((await o.client.post(`${API}/chats/${ch.id}/join/`)).status).toBe(404);
    const b = await newUser(s, 'pb');
    const dm = await createChat(a, { chat_type: 'dm', member_ids: [b.id] });
    expect((await o.client.post(`${API}/chats/${dm.id}/join/`)).status).toBe(404);
    expect((await o.client.post(`${API}/chats/999999/join/`)).status).toBe(404);
  });

  it('an admin can make a private channel public, and then outsiders can see and join it', async () => {
    const a = await newUser(s, 'pua');
    const o = await newUser(s, 'puo');
    const ch = await createChat(a, { chat_type: 'channel', title: 'Soon public' });
    expectStatus(await o.client.get(`${API}/chats/${ch.id}/`), 404);
    const r = await a.client.patch(`${API}/chats/${ch.id}/`, { is_public: true });
    expectStatus(r, 200);
    expect(r.body.is_public).toBe(true);
    expectStatus(await o.client.get(`${API}/chats/${ch.id}/`), 200);
    expectStatus(await o.client.post(`${API}/chats/${ch.id}/join/`), 200);
  });

  it('a public channel can be joined; its members still cannot post', async () => {
    const a = await newUser(s, 'ca');
    const b = await newUser(s, 'cb');
    const ch = await createChat(a, { chat_type: 'channel', title: 'Announcements', is_public: true });
    expect((await b.client.get(`${API}/chats/${ch.id}/`)).body).toMatchObject({ is_member: false, member_count: 1 });
    const j = await b.client.post(`${API}/chats/${ch.id}/join/`);
    expectStatus(j, 200);
    expect(j.body).toMatchObject({ is_member: true, member_count: 2, admins: [a.id] });
    const post = await b.client.post(`${API}/chats/${ch.id}/messages/`, { content: 'me too' });
    expectStatus(post, 403);
    expect(post.body.detail).toMatch(/admin/i);
    expectStatus(await a.client.post(`${API}/chats/${ch.id}/messages/`, { content: 'news' }), 201);
  });
});
