import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client, Res, TestServer, TestUser } from './harness.js';
import { API, NOT_FOUND, NO_CREDENTIALS, createChat, expectNoLeak, newUser, send, startRestServer } from './rest-fixtures.js';

/**
 * The permission matrix of `/messages/api/`: for each endpoint and each kind of caller, the
 * status the seed (Django Messaging) and the policy (src/core/policy.ts) call for.
 *
 * - anonymous: no credentials → 401 {detail: "Authentication credentials were not provided."}
 * - outsider: a signed-in user who is not a member → 404 {detail: "Not found."} on private
 *   chats (ids of other people's chats and messages reveal nothing), 403 where a public
 *   channel or room is visible but the action needs membership.
 * - member: reads, sends, reacts, marks read, types; 403 for admin actions and for other
 *   people's messages.
 * - admin: the chat's creator.
 */

type Actor = 'anonymous' | 'outsider' | 'member' | 'admin';
const ACTORS: Actor[] = ['anonymous', 'outsider', 'member', 'admin'];
type Kind = 'group' | 'public channel' | 'private channel' | 'room' | 'dm';

interface Fixture {
  chat: number;
  /** A message by the admin (in a DM: by the creator). */
  adminMsg: number;
  /** A message by the member, where members may post. */
  memberMsg: number | null;
}

interface Req {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  body?: unknown;
}

interface Row {
  endpoint: string;
  kind: Kind;
  req: (f: Fixture, who: { actor: Actor; id: number }) => Req;
  /** Expected status for anonymous, outsider, member, admin. */
  expect: [number, number, number, number];
}

let s: TestServer;
let users: Record<Exclude<Actor, 'anonymous'> | 'other' | 'newbie', TestUser>;

beforeAll(async () => {
  s = await startRestServer();
  users = {
    admin: await newUser(s, 'admin'),
    member: await newUser(s, 'member'),
    other: await newUser(s, 'other'),
    outsider: await newUser(s, 'outsider'),
    newbie: await newUser(s, 'newbie'),
  };
});
afterAll(() => s.close());

/** A fresh chat of `kind` for every case, so destructive cases do not affect each other. */
async function fixture(kind: Kind): Promise<Fixture> {
  const { admin, member, other } = users;
  let chat: any;
  if (kind === 'dm') chat = await createChat(admin, { chat_type: 'dm', member_ids: [member.id] });
  else if (kind === 'group') chat = await createChat(admin, { chat_type: 'group', title: 'Matrix group', member_ids: [member.id, other.id] });
  else if (kind === 'room') chat = await createChat(admin, { chat_type: 'room', title: 'Matrix room', member_ids: [member.id, other.id] });
  else
    chat = await createChat(admin, {
      chat_type: 'channel',
      title: 'Matrix channel',
      member_ids: [member.id, other.id],
      is_public: kind === 'public channel',
    });
  const adminMsg = (await send(admin, chat.id, 'from the admin')).id;
  const memberMsg = kind.endsWith('channel') ? null : (await send(member, chat.id, 'from a member')).id;
  return { chat: chat.id, adminMsg, memberMsg };
}

const get = (path: string): Req => ({ method: 'GET', path });
const post = (path: string, body?: unknown): Req => ({ method: 'POST', path, body });
const C = (f: Fixture) => `${API}/chats/${f.chat}`;
const M = (id: number | null) => `${API}/messages/${id}`;

const rows: Row[] = [
  // ── not tied to one chat ──
  { endpoint: 'GET /chats/', kind: 'group', req: () => get(`${API}/chats/`), expect: [401, 200, 200, 200] },
  { endpoint: 'POST /chats/ (group)', kind: 'group', req: () => post(`${API}/chats/`, { chat_type: 'group', title: 'New' }), expect: [401, 201, 201, 201] },
  { endpoint: 'GET /users/search/', kind: 'group', req: () => get(`${API}/users/search/?q=member`), expect: [401, 200, 200, 200] },
  { endpoint: 'GET /search/', kind: 'group', req: () => get(`${API}/search/?q=admin`), expect: [401, 200, 200, 200] },
  { endpoint: 'GET /rooms/?object=', kind: 'group', req: () => get(`${API}/rooms/?object=matrix:1`), expect: [401, 200, 200, 200] },
  { endpoint: 'GET /chats/{unknown}/', kind: 'group', req: () => get(`${API}/chats/99999999/`), expect: [401, 404, 404, 404] },
  { endpoint: 'GET /messages/{unknown}/', kind: 'group', req: () => get(`${API}/messages/99999999/`), expect: [401, 404, 404, 404] },

  // ── private group ──
  { endpoint: 'GET /chats/{id}/', kind: 'group', req: (f) => get(`${C(f)}/`), expect: [401, 404, 200, 200] },
  { endpoint: 'PUT /chats/{id}/', kind: 'group', req: (f) => ({ method: 'PUT', path: `${C(f)}/`, body: { title: 'Renamed' } }), expect: [401, 404, 403, 200] },
  { endpoint: 'PATCH /chats/{id}/', kind: 'group', req: (f) => ({ method: 'PATCH', path: `${C(f)}/`, body: { title: 'Renamed' } }), expect: [401, 404, 403, 200] },
  { endpoint: 'DELETE /chats/{id}/', kind: 'group', req: (f) => ({ method: 'DELETE', path: `${C(f)}/` }), expect: [401, 404, 403, 204] },
  { endpoint: 'GET /chats/{id}/messages/', kind: 'group', req: (f) => get(`${C(f)}/messages/`), expect: [401, 404, 200, 200] },
  { endpoint: 'POST /chats/{id}/messages/', kind: 'group', req: (f) => post(`${C(f)}/messages/`, { content: 'hi' }), expect: [401, 404, 201, 201] },
  { endpoint: "GET /messages/{admin's}/", kind: 'group', req: (f) => get(`${M(f.adminMsg)}/`), expect: [401, 404, 200, 200] },
  { endpoint: "PUT /messages/{admin's}/", kind: 'group', req: (f) => ({ method: 'PUT', path: `${M(f.adminMsg)}/`, body: { content: 'edit' } }), expect: [401, 404, 403, 200] },
  { endpoint: "PATCH /messages/{admin's}/", kind: 'group', req: (f) => ({ method: 'PATCH', path: `${M(f.adminMsg)}/`, body: { content: 'edit' } }), expect: [401, 404, 403, 200] },
  { endpoint: "DELETE /messages/{admin's}/", kind: 'group', req: (f) => ({ method: 'DELETE', path: `${M(f.adminMsg)}/` }), expect: [401, 404, 403, 204] },
  // Only the sender edits or deletes a message: admins included (seed: "only your own messages").
  { endpoint: "PATCH /messages/{member's}/", kind: 'group', req: (f) => ({ method: 'PATCH', path: `${M(f.memberMsg)}/`, body: { content: 'edit' } }), expect: [401, 404, 200, 403] },
  { endpoint: "DELETE /messages/{member's}/", kind: 'group', req: (f) => ({ method: 'DELETE', path: `${M(f.memberMsg)}/` }), expect: [401, 404, 204, 403] },
  { endpoint: 'POST /messages/{id}/reactions/', kind: 'group', req: (f) => post(`${M(f.adminMsg)}/reactions/`, { emoji: '👍' }), expect: [401, 404, 200, 200] },
  { endpoint: 'POST /chats/{id}/mark-as-read/', kind: 'group', req: (f) => post(`${C(f)}/mark-as-read/`), expect: [401, 404, 200, 200] },
  { endpoint: 'POST /chats/{id}/typing/', kind: 'group', req: (f) => post(`${C(f)}/typing/`, { is_typing: true }), expect: [401, 404, 200, 200] },
  { endpoint: 'POST /chats/{id}/members/add/', kind: 'group', req: (f) => post(`${C(f)}/members/add/`, { user_ids: [users.newbie.id] }), expect: [401, 404, 403, 200] },
  { endpoint: 'DELETE /chats/{id}/members/{other}/remove/', kind: 'group', req: (f) => ({ method: 'DELETE', path: `${C(f)}/members/${users.other.id}/remove/` }), expect: [401, 404, 403, 204] },
  { endpoint: 'DELETE /chats/{id}/members/{self}/remove/', kind: 'group', req: (f, who) => ({ method: 'DELETE', path: `${C(f)}/members/${who.id}/remove/` }), expect: [401, 404, 204, 204] },
  { endpoint: 'POST /chats/{id}/join/', kind: 'group', req: (f) => post(`${C(f)}/join/`), expect: [401, 404, 200, 200] },
  { endpoint: 'POST /chats/{id}/leave/', kind: 'group', req: (f) => post(`${C(f)}/leave/`), expect: [401, 404, 204, 204] },

  // ── public channel: readable by anyone signed in, only admins post ──
  { endpoint: 'GET /chats/{id}/', kind: 'public channel', req: (f) => get(`${C(f)}/`), expect: [401, 200, 200, 200] },
  { endpoint: 'GET /chats/{id}/messages/', kind: 'public channel', req: (f) => get(`${C(f)}/messages/`), expect: [401, 200, 200, 200] },
  { endpoint: 'GET /messages/{id}/', kind: 'public channel', req: (f) => get(`${M(f.adminMsg)}/`), expect: [401, 200, 200, 200] },
  { endpoint: 'POST /chats/{id}/messages/', kind: 'public channel', req: (f) => post(`${C(f)}/messages/`, { content: 'hi' }), expect: [401, 403, 403, 201] },
  { endpoint: 'POST /messages/{id}/reactions/', kind: 'public channel', req: (f) => post(`${M(f.adminMsg)}/reactions/`, { emoji: '👍' }), expect: [401, 403, 200, 200] },
  { endpoint: 'PATCH /messages/{id}/', kind: 'public channel', req: (f) => ({ method: 'PATCH', path: `${M(f.adminMsg)}/`, body: { content: 'x' } }), expect: [401, 403, 403, 200] },
  { endpoint: 'DELETE /messages/{id}/', kind: 'public channel', req: (f) => ({ method: 'DELETE', path: `${M(f.adminMsg)}/` }), expect: [401, 403, 403, 204] },
  { endpoint: 'POST /chats/{id}/mark-as-read/', kind: 'public channel', req: (f) => post(`${C(f)}/mark-as-read/`), expect: [401, 404, 200, 200] },
  { endpoint: 'POST /chats/{id}/typing/', kind: 'public channel', req: (f) => post(`${C(f)}/typing/`), expect: [401, 403, 403, 200] },
  { endpoint: 'PATCH /chats/{id}/', kind: 'public channel', req: (f) => ({ method: 'PATCH', path: `${C(f)}/`, body: { title: 'Renamed' } }), expect: [401, 403, 403, 200] },
  { endpoint: 'DELETE /chats/{id}/', kind: 'public channel', req: (f) => ({ method: 'DELETE', path: `${C(f)}/` }), expect: [401, 403, 403, 204] },
  { endpoint: 'POST /chats/{id}/members/add/', kind: 'public channel', req: (f) => post(`${C(f)}/members/add/`, { user_ids: [users.newbie.id] }), expect: [401, 403, 403, 200] },
  { endpoint: 'DELETE /chats/{id}/members/{other}/remove/', kind: 'public channel', req: (f) => ({ method: 'DELETE', path: `${C(f)}/members/${users.other.id}/remove/` }), expect: [401, 404, 403, 204] },
  { endpoint: 'POST /chats/{id}/join/', kind: 'public channel', req: (f) => post(`${C(f)}/join/`), expect: [401, 200, 200, 200] },
  { endpoint: 'POST /chats/{id}/leave/', kind: 'public channel', req: (f) => post(`${C(f)}/leave/`), expect: [401, 404, 204, 204] },

  // ── private channel: invisible to outsiders ──
  { endpoint: 'GET /chats/{id}/', kind: 'private channel', req: (f) => get(`${C(f)}/`), expect: [401, 404, 200, 200] },
  { endpoint: 'GET /chats/{id}/messages/', kind: 'private channel', req: (f) => get(`${C(f)}/messages/`), expect: [401, 404, 200, 200] },
  { endpoint: 'POST /chats/{id}/messages/', kind: 'private channel', req: (f) => post(`${C(f)}/messages/`, { content: 'hi' }), expect: [401, 404, 403, 201] },
  { endpoint: 'POST /chats/{id}/join/', kind: 'private channel', req: (f) => post(`${C(f)}/join/`), expect: [401, 404, 200, 200] },

  // ── room (public): readable by anyone, members post ──
  { endpoint: 'GET /chats/{id}/', kind: 'room', req: (f) => get(`${C(f)}/`), expect: [401, 200, 200, 200] },
  { endpoint: 'GET /chats/{id}/messages/', kind: 'room', req: (f) => get(`${C(f)}/messages/`), expect: [401, 200, 200, 200] },
  { endpoint: 'POST /chats/{id}/messages/', kind: 'room', req: (f) => post(`${C(f)}/messages/`, { content: 'hi' }), expect: [401, 403, 201, 201] },
  { endpoint: 'POST /chats/{id}/typing/', kind: 'room', req: (f) => post(`${C(f)}/typing/`), expect: [401, 403, 200, 200] },
  { endpoint: 'POST /messages/{id}/reactions/', kind: 'room', req: (f) => post(`${M(f.adminMsg)}/reactions/`, { emoji: '👍' }), expect: [401, 403, 200, 200] },
  { endpoint: "PATCH /messages/{member's}/", kind: 'room', req: (f) => ({ method: 'PATCH', path: `${M(f.memberMsg)}/`, body: { content: 'x' } }), expect: [401, 403, 200, 403] },
  { endpoint: 'PATCH /chats/{id}/', kind: 'room', req: (f) => ({ method: 'PATCH', path: `${C(f)}/`, body: { title: 'Renamed' } }), expect: [401, 403, 403, 200] },
  { endpoint: 'DELETE /chats/{id}/', kind: 'room', req: (f) => ({ method: 'DELETE', path: `${C(f)}/` }), expect: [401, 403, 403, 204] },
  { endpoint: 'POST /chats/{id}/join/', kind: 'room', req: (f) => post(`${C(f)}/join/`), expect: [401, 200, 200, 200] },

  // ── DM: "admin" is the creator, "member" the partner; both are plain members ──
  { endpoint: 'GET /chats/{id}/', kind: 'dm', req: (f) => get(`${C(f)}/`), expect: [401, 404, 200, 200] },
  { endpoint: 'GET /chats/{id}/messages/', kind: 'dm', req: (f) => get(`${C(f)}/messages/`), expect: [401, 404, 200, 200] },
  { endpoint: 'POST /chats/{id}/messages/', kind: 'dm', req: (f) => post(`${C(f)}/messages/`, { content: 'hi' }), expect: [401, 404, 201, 201] },
  { endpoint: 'GET /messages/{id}/', kind: 'dm', req: (f) => get(`${M(f.adminMsg)}/`), expect: [401, 404, 200, 200] },
  { endpoint: "PATCH /messages/{creator's}/", kind: 'dm', req: (f) => ({ method: 'PATCH', path: `${M(f.adminMsg)}/`, body: { content: 'x' } }), expect: [401, 404, 403, 200] },
  { endpoint: "DELETE /messages/{partner's}/", kind: 'dm', req: (f) => ({ method: 'DELETE', path: `${M(f.memberMsg)}/` }), expect: [401, 404, 204, 403] },
  { endpoint: 'POST /messages/{id}/reactions/', kind: 'dm', req: (f) => post(`${M(f.adminMsg)}/reactions/`, { emoji: '👍' }), expect: [401, 404, 200, 200] },
  { endpoint: 'POST /chats/{id}/mark-as-read/', kind: 'dm', req: (f) => post(`${C(f)}/mark-as-read/`), expect: [401, 404, 200, 200] },
  { endpoint: 'POST /chats/{id}/typing/', kind: 'dm', req: (f) => post(`${C(f)}/typing/`), expect: [401, 404, 200, 200] },
  { endpoint: 'PATCH /chats/{id}/', kind: 'dm', req: (f) => ({ method: 'PATCH', path: `${C(f)}/`, body: { title: 'Ours' } }), expect: [401, 404, 200, 200] },
  { endpoint: 'DELETE /chats/{id}/', kind: 'dm', req: (f) => ({ method: 'DELETE', path: `${C(f)}/` }), expect: [401, 404, 403, 403] },
  { endpoint: 'POST /chats/{id}/members/add/', kind: 'dm', req: (f) => post(`${C(f)}/members/add/`, { user_ids: [users.newbie.id] }), expect: [401, 404, 400, 400] },
  { endpoint: 'POST /chats/{id}/leave/', kind: 'dm', req: (f) => post(`${C(f)}/leave/`), expect: [401, 404, 400, 400] },
];

const cases = rows.flatMap((row) => ACTORS.map((actor, i) => ({ ...row, actor, status: row.expect[i] as number })));

function clientOf(actor: Actor): Client {
  return actor === 'anonymous' ? s.anon : users[actor].client;
}

function idOf(actor: Actor): number {
  return actor === 'anonymous' ? users.member.id : users[actor].id;
}

function checkBody(r: Res, status: number): void {
  if (status === 401) expect(r.body).toEqual(NO_CREDENTIALS);
  else if (status === 404) expect(r.body).toEqual(NOT_FOUND);
  else if (status === 403) {
    expect(Object.keys(r.body)).toEqual(['detail']);
    expect(typeof r.body.detail).toBe('string');
    expect(r.body.detail.length).toBeGreaterThan(0);
  } else if (status === 400) {
    expect(r.body.error).toBe('Invalid request');
    expect(typeof r.body.details).toBe('object');
  } else if (status === 204) expect(r.text).toBe('');
  else expect(typeof r.body).toBe('object');
  if (status >= 400) expectNoLeak(r);
}

describe('permission matrix', () => {
  it('covers every actor for every row', () => {
    expect(cases).toHaveLength(rows.length * ACTORS.length);
  });

  it.each(cases)('$kind: $endpoint as $actor → $status', async ({ kind, req, actor, status }) => {
    const f = await fixture(kind);
    const { method, path, body } = req(f, { actor, id: idOf(actor) });
    const r = await clientOf(actor).request(method, path, body);
    expect({ status: r.status, body: r.body }).toMatchObject({ status });
    checkBody(r, status);
  });
});

describe('what a refused call leaves behind', () => {
  it("a member's refused rename, delete, add and removal change nothing", async () => {
    const f = await fixture('group');
    const m = users.member.client;
    await m.patch(`${API}/chats/${f.chat}/`, { title: 'Hijacked' });
    await m.delete(`${API}/chats/${f.chat}/`);
    await m.post(`${API}/chats/${f.chat}/members/add/`, { user_ids: [users.newbie.id] });
    await m.delete(`${API}/chats/${f.chat}/members/${users.other.id}/remove/`);
    await m.patch(`${API}/messages/${f.adminMsg}/`, { content: 'Hijacked' });
    await m.delete(`${API}/messages/${f.adminMsg}/`);
    const d = await users.admin.client.get(`${API}/chats/${f.chat}/`);
    expect(d.body.title).toBe('Matrix group');
    expect(d.body.member_count).toBe(3);
    const msg = await users.admin.client.get(`${API}/messages/${f.adminMsg}/`);
    expect(msg.body).toMatchObject({ content: 'from the admin', is_edited: false });
  });

  it("an outsider's refused calls on a private chat change nothing and reveal nothing", async () => {
    const f = await fixture('group');
    const o = users.outsider.client;
    const unknownChat = await o.get(`${API}/chats/99999999/messages/`);
    const realChat = await o.get(`${API}/chats/${f.chat}/messages/`);
    expect(realChat.status).toBe(unknownChat.status);
    expect(realChat.text).toBe(unknownChat.text);
    const unknownMsg = await o.patch(`${API}/messages/99999999/`, { content: 'x' });
    const realMsg = await o.patch(`${API}/messages/${f.adminMsg}/`, { content: 'x' });
    expect(realMsg.status).toBe(unknownMsg.status);
    expect(realMsg.text).toBe(unknownMsg.text);
    await o.post(`${API}/chats/${f.chat}/messages/`, { content: 'intrusion' });
    await o.post(`${API}/chats/${f.chat}/members/add/`, { user_ids: [users.outsider.id] });
    const list = await users.admin.client.get(`${API}/chats/${f.chat}/messages/`);
    expect(list.body.count).toBe(2);
    expect((await users.admin.client.get(`${API}/chats/${f.chat}/`)).body.member_count).toBe(3);
    expect((await o.get(`${API}/chats/`)).body.results.map((c: any) => c.id)).not.toContain(f.chat);
  });

  it('channel posts from members are refused with a detail that says why', async () => {
    const f = await fixture('public channel');
    const r = await users.member.client.post(`${API}/chats/${f.chat}/messages/`, { content: 'hi' });
    expect(r.status).toBe(403);
    expect(r.body.detail).toMatch(/only admins/i);
  });
});

describe('authentication', () => {
  it('an invalid token is 401 {detail: "Invalid token."}', async () => {
    const r = await s.anon.get(`${API}/chats/`, { authorization: 'Token not-a-real-token' });
    expect(r.status).toBe(401);
    expect(r.body).toEqual({ detail: 'Invalid token.' });
    const bad = await s.anon.get(`${API}/chats/`, { authorization: 'Basic Zm9vOmJhcg==' });
    expect(bad.status).toBe(401);
    expect(typeof bad.body.detail).toBe('string');
  });

  it('the session cookie works as well as the token', async () => {
    const reg = await s.anon.post('/auth/register', { username: 'cookiejar', password: 'long enough pw' });
    const cookie = (reg.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const r = await s.anon.get(`${API}/chats/`, { cookie });
    expect(r.status).toBe(200);
  });

  // DRF authenticates and checks permissions before it parses or validates anything, and the
  // seed says every endpoint requires authentication: a request without credentials is a 401
  // whatever its body, query or path.
  it.each([
    { what: 'POST /chats/ with an empty body', method: 'POST', path: `${API}/chats/`, body: {} },
    { what: 'POST /chats/ with a bad chat_type', method: 'POST', path: `${API}/chats/`, body: { chat_type: 'nope' } },
    { what: 'POST /chats/1/messages/ with {"content": 5}', method: 'POST', path: `${API}/chats/1/messages/`, body: { content: 5 } },
    { what: 'POST /messages/1/reactions/ with no emoji', method: 'POST', path: `${API}/messages/1/reactions/`, body: {} },
    { what: 'GET /users/search/ without q', method: 'GET', path: `${API}/users/search/` },
    { what: 'GET /search/ without q', method: 'GET', path: `${API}/search/` },
    { what: 'GET /rooms/ without object', method: 'GET', path: `${API}/rooms/` },
    { what: 'GET /chats/?page=0', method: 'GET', path: `${API}/chats/?page=0` },
    { what: 'GET /chats/abc/', method: 'GET', path: `${API}/chats/abc/` },
  ])('anonymous $what → 401, not 400', async ({ method, path, body }) => {
    const r = await s.anon.request(method, path, body);
    expect({ status: r.status, body: r.body }).toEqual({ status: 401, body: NO_CREDENTIALS });
  });
});
