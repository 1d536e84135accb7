/**
 * Policies across every face (docs/extending/policies.md): the recipient whitelist and the
 * contact list on every way of starting a DM, blocks, mutes and the per-user send rate limit.
 * Servers are built through the public API (`createParley`), as a host would.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { User } from '../../src/core/index.js';
import { type PublicServer, type TestServer, type TestUser, startParley } from './harness.js';
import { type Peer, connect, ev } from './messaging-client.js';

/** The messaging test client only needs the URL to connect. */
const asTarget = (s: PublicServer): TestServer => ({ url: s.url }) as unknown as TestServer;
const open = (s: PublicServer, u: TestUser): Promise<Peer> => connect(asTarget(s), u.token);

const restSend = async (u: TestUser, chatId: number, content: string) => {
  const r = await u.client.post(`/messages/api/chats/${chatId}/messages/`, { content });
  expect(r.status, r.text).toBe(201);
  return r.body as { id: number; content: string };
};
const group = async (owner: TestUser, others: TestUser[], title: string): Promise<number> => {
  const r = await owner.client.post('/messages/api/chats/', { chat_type: 'group', title, member_ids: others.map((o) => o.id) });
  expect(r.status, r.text).toBe(201);
  return r.body.id as number;
};
const contents = (results: { content: string }[]): string[] => results.map((m) => m.content);

describe('the whitelist and the contact list apply to a DM started through any face', () => {
  let s: PublicServer;
  let staff: TestUser;
  let alice: TestUser;
  let bob: TestUser;
  let carol: TestUser;

  beforeAll(async () => {
    // Whitelist: user 1 (staff) may be messaged by anyone and may message anyone. Contact
    // list: nobody may start a DM with carol.
    s = await startParley({
      allowedRecipients: [1],
      hooks: { canContact: (_user: User, candidate: User) => candidate.username !== 'carol' },
    });
    staff = await s.user('staff');
    alice = await s.user('alice');
    bob = await s.user('bob');
    carol = await s.user('carol');
    expect(staff.id).toBe(1);
  });
  afterAll(() => s.close());

  it('/api/dm/ send, /messages/api/ DM creation and /messaging/ room.create one_to_one all refuse alike', async () => {
    // Whitelisted pairs work everywhere.
    expect((await alice.client.post(`/api/dm/send/${staff.id}/`, { content: 'hi staff' })).status).toBe(201);
    expect((await bob.client.post('/messages/api/chats/', { chat_type: 'dm', member_ids: [staff.id] })).status).toBe(201);

    // alice → bob: neither is whitelisted.
    const viaDm = await alice.client.post(`/api/dm/send/${bob.id}/`, { content: 'hi bob' });
    expect(viaDm.status).toBe(400);
    // /api/dm/ words it as drf-directmessages does (`str(ValidationError)`).
    expect(viaDm.body.detail).toBe("['You are not allowed to message this user.']");
    const viaRest = await alice.client.post('/messages/api/chats/', { chat_type: 'dm', member_ids: [bob.id] });
    expect(viaRest.status).toBe(400);
    expect(JSON.stringify(viaRest.body)).toContain('You are not allowed to send messages to this user.');
    const ws = await open(s, alice);
    const wsError = await ws.fail('room.create', { room_type: 'one_to_one', user_id: bob.id });
    expect(wsError.code).toBe(4003);
    expect(wsError.detail).toContain('You are not allowed to send messages to this user.');

    // staff → carol: whitelisted, but the contact list refuses carol.
    const staffWs = await open(s, staff);
    expect((await staff.client.post(`/api/dm/send/${carol.id}/`, { content: 'hi carol' })).status).toBe(403);
    expect((await staff.client.post('/messages/api/chats/', { chat_type: 'dm', member_ids: [carol.id] })).status).toBe(403);
    expect((await staffWs.fail('room.create', { room_type: 'one_to_one', user_id: carol.id })).code).toBe(4002);

    // Nothing was created for the refused pairs.
    const chats = (await alice.client.get('/messages/api/chats/?chat_type=dm')).body.results as { members: { id: number }[] }[];
    expect(chats.map((c) => c.members.map((m) => m.id).sort())).toEqual([[staff.id, alice.id].sort()]);
    expect((await carol.client.get('/messages/api/chats/')).body.count).toBe(0);
    ws.close();
    staffWs.close();
  });
});

describe('blocks', () => {
  let s: PublicServer;
  let alice: TestUser;
  let bob: TestUser;
  let carol: TestUser;
  let room: number;
  let dm: number;

  beforeAll(async () => {
    s = await startParley();
    alice = await s.user('alice');
    bob = await s.user('bob');
    carol = await s.user('carol');
    room = await group(alice, [bob, carol], 'Team');
    expect((await bob.client.post(`/api/dm/send/${alice.id}/`, { content: 'bob: hello alice' })).status).toBe(201);
    // The same DM, as /messages/api/ sees it (opening an existing DM returns it).
    const dmChat = await alice.client.post('/messages/api/chats/', { chat_type: 'dm', member_ids: [bob.id] });
    dm = dmChat.body.id;
    await restSend(carol, room, 'carol: walrus one');
    await restSend(bob, room, 'bob: walrus two');
  });
  afterAll(() => s.close());

  it('lists, adds and lifts blocks over REST; blocking yourself or nobody is refused', async () => {
    expect((await alice.client.get('/messages/api/blocks/')).body).toEqual({ count: 0, results: [] });
    const r = await alice.client.post(`/messages/api/users/${bob.id}/block/`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ user: { id: bob.id, username: 'bob' }, is_blocked: true });
    // Twice is fine.
    expect((await alice.client.post(`/messages/api/users/${bob.id}/block/`)).status).toBe(200);
    const list = await alice.client.get('/messages/api/blocks/');
    expect(list.body.count).toBe(1);
    expect(list.body.results[0].user.id).toBe(bob.id);
    expect(typeof list.body.results[0].blocked_at).toBe('string');
    expect((await alice.client.post(`/messages/api/users/${alice.id}/block/`)).status).toBe(400);
    expect((await alice.client.post('/messages/api/users/999999/block/')).status).toBe(404);
    // Nobody else is affected.
    expect((await carol.client.get('/messages/api/blocks/')).body.count).toBe(0);

    const u = await alice.client.post(`/messages/api/users/${bob.id}/unblock/`);
    expect(u.body).toMatchObject({ user: { id: bob.id }, is_blocked: false });
    expect((await alice.client.get('/messages/api/blocks/')).body.count).toBe(0);
  });

  it("hides the blocked user's messages from the blocker on every face; the blocked user cannot DM them; unblocking restores", async () => {
    const aliceWs = await open(s, alice);
    const carolWs = await open(s, carol);
    aliceWs.send('user.block', { user_id: bob.id });
    expect((await aliceWs.event('userblock.dispatch')).data).toEqual({ user_id: bob.id, is_blocked: true });

    // History: REST, /messaging/ room.messages, /api/dm/, search, the chat list's last message.
    const restHistory = await alice.client.get(`/messages/api/chats/${room}/messages/`);
    expect(contents(restHistory.body.results)).toEqual(['carol: walrus one']);
    const wsHistory = await aliceWs.request('room.messages', { room_id: room }, ev('roommessages.dispatch'));
    expect(contents(wsHistory.data.results)).toEqual(['carol: walrus one']);
    expect(wsHistory.data.count).toBe(1);
    expect((await alice.client.get(`/api/dm/conversations/${bob.id}/`)).body.results).toEqual([]);
    expect(contents((await alice.client.get('/messages/api/search/?q=walrus')).body.results)).toEqual(['carol: walrus one']);
    // Carol still sees everything.
    expect(contents((await carol.client.get('/messages/api/search/?q=walrus')).body.results).sort()).toEqual(['bob: walrus two', 'carol: walrus one']);

    // Live: bob's new message reaches carol, not alice; carol's next one reaches alice.
    await restSend(bob, room, 'bob: live');
    await carolWs.event('message.dispatch', (d) => d.content === 'bob: live');
    await restSend(carol, room, 'carol: live');
    await aliceWs.event('message.dispatch', (d) => d.content === 'carol: live');
    // Events reach a socket in order: had bob's been sent to alice, it would be here by now.
    expect(aliceWs.pending.filter(ev('message.dispatch', (d) => d.content === 'bob: live'))).toEqual([]);
    // Nor does a resume from a cursor replay it.
    const resumed = await connect(asTarget(s), alice.token, { query: { cursor: aliceWs.ready.data.cursor } });
    await resumed.event('message.dispatch', (d) => d.content === 'carol: live');
    expect(resumed.pending.filter(ev('message.dispatch', (d) => d.content === 'bob: live'))).toEqual([]);
    resumed.close();
    const list = (await alice.client.get('/messages/api/chats/')).body.results as { id: number; last_message: { content: string } | null; unread_count: number }[];
    const teamRow = list.find((c) => c.id === room);
    expect(teamRow?.last_message?.content).toBe('carol: live');
    // Unread counts ignore bob: carol's two messages only.
    expect(teamRow?.unread_count).toBe(2);

    // Bob cannot start or continue a DM with alice, on any face.
    const viaDm = await bob.client.post(`/api/dm/send/${alice.id}/`, { content: 'let me in' });
    expect(viaDm.status).toBe(403);
    expect(viaDm.body.detail).toBe('You cannot send messages to this user.');
    expect((await bob.client.post(`/messages/api/chats/${dm}/messages/`, { content: 'let me in' })).status).toBe(403);
    const bobWs = await open(s, bob);
    expect((await bobWs.fail('message.send', { room_id: dm, content: 'let me in' })).code).toBe(4002);
    expect((await bobWs.fail('room.create', { room_type: 'one_to_one', user_id: alice.id })).code).toBe(4002);
    // …while alice can still write to bob.
    expect((await alice.client.post(`/api/dm/send/${bob.id}/`, { content: 'alice: I can' })).status).toBe(201);

    // Unblock: everything is back.
    aliceWs.send('user.unblock', { user_id: bob.id });
    expect((await aliceWs.event('userblock.dispatch')).data).toEqual({ user_id: bob.id, is_blocked: false });
    expect(contents((await alice.client.get(`/messages/api/chats/${room}/messages/`)).body.results).sort()).toEqual(
      ['bob: live', 'bob: walrus two', 'carol: live', 'carol: walrus one'].sort(),
    );
    expect(contents((await alice.client.get(`/api/dm/conversations/${bob.id}/`)).body.results)).toContain('bob: hello alice');
    await restSend(bob, room, 'bob: back');
    await aliceWs.event('message.dispatch', (d) => d.content === 'bob: back');
    expect((await bob.client.post(`/api/dm/send/${alice.id}/`, { content: 'bob: thanks' })).status).toBe(201);
    aliceWs.close();
    carolWs.close();
    bobWs.close();
  });
});

describe('mutes', () => {
  let s: PublicServer;
  let alice: TestUser;
  let bob: TestUser;

  beforeAll(async () => {
    s = await startParley();
    alice = await s.user('alice');
    bob = await s.user('bob');
  });
  afterAll(() => s.close());

  it('a muted chat gives no chat.notifications on connect, but still delivers and counts unread', async () => {
    const quiet = await group(bob, [alice], 'Quiet');
    const loud = await group(bob, [alice], 'Loud');
    const r = await alice.client.post(`/messages/api/chats/${quiet}/mute/`);
    expect(r.status, r.text).toBe(200);
    expect(r.body).toEqual({ is_muted: true, muted_until: null });
    expect((await alice.client.get(`/messages/api/chats/${quiet}/`)).body.is_muted).toBe(true);
    expect((await bob.client.get(`/messages/api/chats/${quiet}/`)).body.is_muted).toBe(false);

    await restSend(bob, quiet, 'shh');
    await restSend(bob, loud, 'hey');
    const p = await open(s, alice);
    expect(p.notifications?.data.map((n: { room_id: number }) => n.room_id)).toEqual([loud]);
    // Still delivered live and counted unread.
    await restSend(bob, quiet, 'shh again');
    await p.event('message.dispatch', (d) => d.content === 'shh again');
    const list = (await alice.client.get('/messages/api/chats/')).body.results as { id: number; is_muted: boolean; unread_count: number }[];
    expect(list.find((c) => c.id === quiet)).toMatchObject({ is_muted: true, unread_count: 2 });
    expect(list.find((c) => c.id === loud)).toMatchObject({ is_muted: false, unread_count: 1 });

    // Unmute over /messaging/: notifications come back.
    p.send('room.unmute', { room_id: quiet });
    expect((await p.event('roommute.dispatch')).data).toEqual({ room_id: quiet, is_muted: false, muted_until: null });
    const again = await open(s, alice);
    expect(again.notifications?.data.map((n: { room_id: number }) => n.room_id).sort()).toEqual([quiet, loud].sort());

    // A mute with an end, over /messaging/, and one that has ended already is refused.
    const until = new Date(Date.now() + 3_600_000).toISOString();
    p.send('room.mute', { room_id: quiet, until });
    expect((await p.event('roommute.dispatch')).data).toEqual({ room_id: quiet, is_muted: true, muted_until: until });
    expect((await alice.client.get(`/messages/api/chats/${quiet}/`)).body.is_muted).toBe(true);
    expect((await alice.client.post(`/messages/api/chats/${quiet}/mute/`, { until: '2001-01-01T00:00:00.000Z' })).status).toBe(400);
    const later = new Date(Date.now() + 7_200_000).toISOString();
    expect((await alice.client.post(`/messages/api/chats/${quiet}/mute/`, { until: later })).body).toEqual({ is_muted: true, muted_until: later });
    expect((await alice.client.post(`/messages/api/chats/${quiet}/mute/`, { until: 'tomorrow' })).status).toBe(400);
    expect((await alice.client.post(`/messages/api/chats/${quiet}/unmute/`)).body).toEqual({ is_muted: false, muted_until: null });
    // Not a member: not found.
    const bobOnly = await group(bob, [], 'Bob only');
    expect((await alice.client.post(`/messages/api/chats/${bobOnly}/mute/`)).status).toBe(404);
    p.close();
    again.close();
  });
});

describe('per-user send rate limit', () => {
  let s: PublicServer;
  let alice: TestUser;
  let bob: TestUser;

  beforeAll(async () => {
    s = await startParley({ sendRateLimit: { messages: 3, perSeconds: 1 } });
    alice = await s.user('alice');
    bob = await s.user('bob');
  });
  afterAll(() => s.close());

  /** Sends until refused (at most `max` tries); returns the refusal. */
  async function sendUntilLimited<T>(send: () => Promise<T>, limited: (r: T) => boolean, max = 10): Promise<T> {
    for (let i = 0; i < max; i++) {
      const r = await send();
      if (limited(r)) return r;
    }
    throw new Error(`not limited after ${max} sends`);
  }

  /** Waits until the window has passed: a send is accepted again. */
  async function waitForWindow(retryAfterSeconds: number): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, retryAfterSeconds * 1000));
  }

  it('REST: 429 with Retry-After once over the limit; recovers after the window', async () => {
    const chat = await group(alice, [bob], 'Fast');
    const r = await sendUntilLimited(
      () => alice.client.post(`/messages/api/chats/${chat}/messages/`, { content: 'spam' }),
      (x) => x.status !== 201,
    );
    expect(r.status).toBe(429);
    expect(r.body.detail).toMatch(/too fast/);
    const retry = Number(r.headers.get('retry-after'));
    expect(retry).toBeGreaterThanOrEqual(1);
    // Another user is not affected.
    expect((await bob.client.post(`/messages/api/chats/${chat}/messages/`, { content: 'calm' })).status).toBe(201);
    await waitForWindow(retry);
    expect((await alice.client.post(`/messages/api/chats/${chat}/messages/`, { content: 'later' })).status).toBe(201);
  });

  it('/api/dm/: 429 {detail} with Retry-After', async () => {
    const r = await sendUntilLimited(
      () => bob.client.post(`/api/dm/send/${alice.id}/`, { content: 'dm spam' }),
      (x) => x.status !== 201,
    );
    expect(r.status).toBe(429);
    expect(typeof r.body.detail).toBe('string');
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    await waitForWindow(Number(r.headers.get('retry-after')));
    expect((await bob.client.post(`/api/dm/send/${alice.id}/`, { content: 'dm later' })).status).toBe(201);
  });

  it('/messaging/: error 4029 with retry_after; the socket stays open and recovers', async () => {
    const chat = await group(alice, [bob], 'Socket');
    const p = await open(s, bob);
    let error: { code: number; detail: string; retry_after?: number } | undefined;
    for (let i = 0; i < 10 && !error; i++) {
      p.send('message.send', { room_id: chat, content: `ws ${i}` });
      const f = await p.next((x) => x.error !== undefined || ev('message.dispatch', (d) => d.content === `ws ${i}`)(x));
      if (f.error) error = f.error;
    }
    expect(error).toMatchObject({ code: 4029, retry_after: expect.any(Number) });
    expect(error?.retry_after).toBeGreaterThanOrEqual(1);
    await waitForWindow(error?.retry_after ?? 1);
    p.send('message.send', { room_id: chat, content: 'ws later' });
    await p.event('message.dispatch', (d) => d.content === 'ws later');
    p.close();
  });
});
