import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { type DomainEvent, type ErrorMapper, type Operations, type Policy, type Serializers, ParleyError, createParley } from '../../src/index.js';
import { type PublicServer, type TestUser, startParley } from './harness.js';
import { type Frame, Peer } from './messaging-client.js';

/**
 * The replaceable behaviour of issue #6 (operations, the seed-named policy checks, error
 * mapping, serializers, metadata, session hooks), each through the public API only
 * (`createParley` options) on a real server, over REST, `/api/dm/`, `/messaging/` and
 * `/messages/ws/`.
 */

const API = '/messages/api';

/** A host's own error type, mapped to 402 / 4010 by `mapError`. */
class QuotaExceeded extends Error {
  constructor() {
    super('monthly message quota used up');
    this.name = 'QuotaExceeded';
  }
}

const operations: Operations = {
  // Changes the input before the default runs, and vetoes with host errors.
  'message.send': async (input, next) => {
    const content = input.input.content;
    if (content === 'quota') throw new QuotaExceeded();
    if (content === 'crash') throw new Error('relation "messages" violates constraint: SELECT secret FROM internals');
    if (content === 'mapper-boom') throw new Error('mapper-boom');
    const shouted = content.startsWith('!shout ') ? content.slice('!shout '.length).toUpperCase() : content;
    return next({ ...input, input: { ...input.input, content: shouted } });
  },
  // Vetoes with a ParleyError (403 / 4002 like any permission refusal).
  'conversation.create': async (input, next) => {
    if (input.input.title === 'forbidden-room') throw new ParleyError('forbidden', 'Rooms cannot be called that.');
    return next(input);
  },
  // Vetoes a DM with one user, whichever face opens it.
  'dm.open': async (input, next) => {
    if (input.userId === noDmsFor) throw new ParleyError('forbidden', 'This user takes no direct messages.');
    return next(input);
  },
  // Replaces the default: "deleting" archives nothing and keeps the message.
  'message.delete': async () => {
    deletesReplaced += 1;
  },
  // Changes the output: the history comes back without messages containing "[hidden]".
  'message.list': async (input, next) => {
    const page = await next(input);
    return { ...page, items: page.items.filter((m) => !m.content.includes('[hidden]')) };
  },
};
let deletesReplaced = 0;
let noDmsFor = -1;

/** Seed-named check (`have_send_message_permission`): read-only groups take posts from admins only. */
const policy: Partial<Policy> = {
  async haveSendMessagePermission({ conversation, member }) {
    if (member === null) return false;
    if (conversation.metadata?.readOnly === true) return member.role === 'admin';
    return conversation.kind === 'channel' ? member.role !== 'member' : true;
  },
};

const mapError: ErrorMapper = (err) => {
  if (err instanceof QuotaExceeded) return { status: 402, wsCode: 4010, detail: 'Quota exceeded.', body: { detail: 'Quota exceeded.', code: 'quota' } };
  if (err instanceof Error && err.message === 'mapper-boom') throw new Error('the mapper itself fails');
  return undefined;
};

let messagingSerializerCalls = 0;
const words = (s: unknown) => (typeof s === 'string' && s.trim() !== '' ? s.trim().split(/\s+/).length : 0);
const serializers: Serializers = {
  rest: {
    message: (out, m) => ({ ...out, word_count: words(m.content) }),
    // Renames a field.
    user: ({ display_name, ...rest }) => ({ ...rest, full_name: display_name }),
    chat: (out, c) => ({ ...out, kind_label: c.kind.toUpperCase() }),
  },
  dm: { message: (out) => ({ ...out, channel: 'dm' }) },
  messaging: {
    message: (out, m) => {
      messagingSerializerCalls += 1;
      return { ...out, word_count: words(m.content) };
    },
    room: (out) => ({ ...out, extended: true }),
  },
  live: { message: (out, m) => ({ ...out, word_count: words(m.content) }) },
};

const sessions: DomainEvent[] = [];

let s: PublicServer;
let ann: TestUser;
let ben: TestUser;
let group: number;

beforeAll(async () => {
  s = await startParley({
    operations,
    policy,
    mapError,
    // The seed's EVENT_MAPPER: add an event type, replace one, remove one.
    messagingHandlers: {
      async 'poll.vote'(ctx) {
        ctx.reply({ eventType: 'poll.voted', data: { option: ctx.data.option ?? null, user_id: ctx.user.id } });
      },
      async 'session.heartbeat'(ctx) {
        ctx.session.refresh();
        ctx.socket.sendJson({ status: 'success', by: 'host' });
      },
      'room.join': null,
    },
    serializers,
    metadataSchema: {
      message: { type: 'object', properties: { priority: { type: 'integer', minimum: 1, maximum: 5 } }, additionalProperties: false },
      conversation: { type: 'object', properties: { readOnly: { type: 'boolean' }, topic: { type: 'string' } }, additionalProperties: false },
    },
    lifecycle: {
      after: {
        'session.started': (e) => void sessions.push(e),
        'session.ended': (e) => void sessions.push(e),
      },
    },
  });
  ann = await s.user('ann', { display_name: 'Ann Lee' });
  ben = await s.user('ben');
  const r = await ann.client.post(`${API}/chats/`, { chat_type: 'group', title: 'Team', member_ids: [ben.id] });
  expect(r.status).toBe(201);
  group = r.body.id;
});
afterAll(async () => {
  await s?.close();
});

async function peer(token: string, path = '/messaging/'): Promise<Peer> {
  const ws = new WebSocket(`${s.url.replace(/^http/, 'ws')}${path}?token=${token}`);
  const p = new Peer(ws);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return p;
}

async function messagingPeer(token: string): Promise<Peer> {
  const p = await peer(token);
  await p.event('session.ready');
  return p;
}

const dispatched = (p: Peer, content: string): Promise<Frame> => p.event('message.dispatch', (d) => d.content === content);

describe('operations', () => {
  it('a wrapper that changes the input applies to REST and /messaging/ alike', async () => {
    const r = await ann.client.post(`${API}/chats/${group}/messages/`, { content: '!shout hello there' });
    expect(r.status).toBe(201);
    expect(r.body.content).toBe('HELLO THERE');

    const p = await messagingPeer(ben.token);
    try {
      p.send('message.send', { room_id: group, content: '!shout over the socket' });
      const f = await dispatched(p, 'OVER THE SOCKET');
      expect(f.data.room_id).toBe(group);
    } finally {
      p.close();
    }
  });

  it('a wrapper that throws vetoes: 403 over REST, 4002 over /messaging/, nothing created', async () => {
    const r = await ann.client.post(`${API}/chats/`, { chat_type: 'group', title: 'forbidden-room' });
    expect(r.status).toBe(403);
    expect(r.body.detail).toBe('Rooms cannot be called that.');
    const p = await messagingPeer(ann.token);
    try {
      const error = await p.fail('room.create', { room_type: 'group_chat', name: 'forbidden-room' });
      expect(error.code).toBe(4002);
    } finally {
      p.close();
    }
    const list = await ann.client.get(`${API}/chats/?search=forbidden`);
    expect(list.body.count).toBe(0);
  });

  it('dm.open wraps every way of opening a DM: /api/dm/, /messages/api/ and /messaging/', async () => {
    const dora = await s.user('dora');
    noDmsFor = dora.id;
    const dm = await ann.client.post(`/api/dm/send/${dora.id}/`, { content: 'hello?' });
    expect(dm.status).toBe(403);
    expect(dm.body.detail).toBe('This user takes no direct messages.');
    const rest = await ann.client.post(`${API}/chats/`, { chat_type: 'dm', member_ids: [dora.id] });
    expect(rest.status).toBe(403);
    const p = await messagingPeer(ann.token);
    try {
      expect((await p.fail('room.create', { room_type: 'one_to_one', member_ids: [dora.id] })).code).toBe(4002);
    } finally {
      p.close();
    }
    expect((await dora.client.get(`${API}/chats/`)).body.count).toBe(0);
    // The veto is about DMs to her: she may still write first.
    expect((await dora.client.post(`/api/dm/send/${ann.id}/`, { content: 'I may write first' })).status).toBe(201);
  });

  it('a wrapper that does not call next replaces the operation; one that changes the output is seen by clients', async () => {
    const sent = await ann.client.post(`${API}/chats/${group}/messages/`, { content: 'keep me' });
    const del = await ann.client.delete(`${API}/messages/${sent.body.id}/`);
    expect(del.status).toBe(204);
    expect(deletesReplaced).toBe(1);
    expect((await ann.client.get(`${API}/messages/${sent.body.id}/`)).status).toBe(200);

    await ann.client.post(`${API}/chats/${group}/messages/`, { content: 'this one is [hidden] from history' });
    const history = await ben.client.get(`${API}/chats/${group}/messages/`);
    const contents = history.body.results.map((m: { content: string }) => m.content);
    expect(contents).toContain('keep me');
    expect(contents.some((c: string) => c.includes('[hidden]'))).toBe(false);
  });
});

describe('messagingHandlers (EVENT_MAPPER)', () => {
  it('adds, replaces and removes /messaging/ event types; the defaults still work', async () => {
    const p = await messagingPeer(ann.token);
    try {
      p.send('poll.vote', { option: 2 });
      expect((await p.event('poll.voted')).data).toEqual({ option: 2, user_id: ann.id });
      p.send('session.heartbeat', {});
      expect(await p.next((f) => f.status === 'success')).toEqual({ status: 'success', by: 'host' });
      expect(await p.fail('room.join', { room_id: group })).toEqual({ code: 4003, detail: 'invalid event type' });
      p.send('message.send', { room_id: group, content: 'defaults still here' });
      await dispatched(p, 'defaults still here');
    } finally {
      p.close();
    }
  });
});

describe('policy: the seed-named checks', () => {
  it('overriding haveSendMessagePermission changes who may post, on every face', async () => {
    const r = await ann.client.post(`${API}/chats/`, { chat_type: 'group', title: 'Announcements', member_ids: [ben.id], metadata: { readOnly: true } });
    expect(r.status).toBe(201);
    const announcements = r.body.id;
    expect((await ben.client.post(`${API}/chats/${announcements}/messages/`, { content: 'may I?' })).status).toBe(403);
    expect((await ben.client.post(`/api/dm/send/${ann.id}/`, { content: 'a DM is no read-only group' })).status).toBe(201);
    const p = await messagingPeer(ben.token);
    try {
      expect((await p.fail('message.send', { room_id: announcements, content: 'socket?' })).code).toBe(4002);
    } finally {
      p.close();
    }
    expect((await ann.client.post(`${API}/chats/${announcements}/messages/`, { content: 'admins post' })).status).toBe(201);
  });
});

describe('mapError', () => {
  it('maps a host error to its HTTP status and /messaging/ code', async () => {
    const r = await ann.client.post(`${API}/chats/${group}/messages/`, { content: 'quota' });
    expect(r.status).toBe(402);
    expect(r.body).toEqual({ detail: 'Quota exceeded.', code: 'quota' });
    const dm = await ann.client.post(`/api/dm/send/${ben.id}/`, { content: 'quota' });
    expect(dm.status).toBe(402);
    const p = await messagingPeer(ann.token);
    try {
      expect(await p.fail('message.send', { room_id: group, content: 'quota' })).toEqual({ code: 4010, detail: 'Quota exceeded.' });
    } finally {
      p.close();
    }
  });

  it('leaves unknown errors internal (500 / 4006, nothing of the error shown), also when the mapper throws', async () => {
    for (const content of ['crash', 'mapper-boom']) {
      const r = await ann.client.post(`${API}/chats/${group}/messages/`, { content });
      expect(r.status).toBe(500);
      expect(r.body).toEqual({ error: 'Internal server error' });
    }
    const p = await messagingPeer(ann.token);
    try {
      for (const content of ['crash', 'mapper-boom']) {
        const error = await p.fail('message.send', { room_id: group, content });
        expect(error).toEqual({ code: 4006, detail: 'Internal server error' });
      }
    } finally {
      p.close();
    }
  });
});

describe('serializers', () => {
  it('add and rename fields on REST messages, users and chats, and on /api/dm/ messages', async () => {
    const r = await ann.client.post(`${API}/chats/${group}/messages/`, { content: 'three little words' });
    expect(r.body.word_count).toBe(3);
    expect(r.body.sender.full_name).toBe('Ann Lee');
    expect(r.body.sender).not.toHaveProperty('display_name');
    const chat = await ann.client.get(`${API}/chats/${group}/`);
    expect(chat.body.kind_label).toBe('GROUP');
    expect(chat.body.members[0]).toHaveProperty('full_name');
    const list = await ann.client.get(`${API}/chats/`);
    expect(list.body.results[0].kind_label).toBeDefined();
    const dm = await ben.client.post(`/api/dm/send/${ann.id}/`, { content: 'hello dm' });
    expect(dm.status).toBe(201);
    expect(dm.body.channel).toBe('dm');
  });

  it('extend /messaging/ broadcasts once per event (not per recipient) and /messages/ws/ frames', async () => {
    const annPeer = await messagingPeer(ann.token);
    const benPeer = await messagingPeer(ben.token);
    const live = await peer(ben.token, '/messages/ws/');
    try {
      await live.next((f) => f.type === 'ready', 'ready');
      const before = messagingSerializerCalls;
      const r = await ann.client.post(`${API}/chats/${group}/messages/`, { content: 'one two three four' });
      expect(r.status).toBe(201);
      const [a, b] = await Promise.all([dispatched(annPeer, 'one two three four'), dispatched(benPeer, 'one two three four')]);
      expect(a.data.word_count).toBe(4);
      expect(b.data.word_count).toBe(4);
      expect(messagingSerializerCalls - before).toBe(1);
      const frame = await live.next((f) => f.type === 'new_message' && f.message.id === r.body.id, 'new_message');
      expect(frame.message.word_count).toBe(4);
      benPeer.send('room.info', { room_id: group });
      const info = await benPeer.event('roominfo.dispatch');
      expect(info.data.extended).toBe(true);
    } finally {
      annPeer.close();
      benPeer.close();
      live.close();
    }
  });

  it('the OpenAPI document says the extensible responses may carry extra fields', async () => {
    const doc = (await s.anon.get('/api/schema/')).body as { paths: Record<string, Record<string, { responses: Record<string, { content: Record<string, { schema: { additionalProperties?: unknown; properties?: Record<string, unknown> } }> }> }>> };
    const sendResponse = doc.paths['/messages/api/chats/{chat_id}/messages/']?.post?.responses['201']?.content['application/json']?.schema;
    expect(sendResponse?.additionalProperties).toBe(true);
    expect(sendResponse?.properties).toHaveProperty('metadata');
  });
});

describe('metadata', () => {
  it('is accepted, validated and returned on REST messages and chats', async () => {
    const sent = await ann.client.post(`${API}/chats/${group}/messages/`, { content: 'urgent', metadata: { priority: 2 } });
    expect(sent.status).toBe(201);
    expect(sent.body.metadata).toEqual({ priority: 2 });
    const plain = await ann.client.post(`${API}/chats/${group}/messages/`, { content: 'plain' });
    expect(plain.body.metadata).toEqual({});

    const bad = await ann.client.post(`${API}/chats/${group}/messages/`, { content: 'x', metadata: { priority: 9 } });
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.body.details)).toEqual(['metadata.priority']);
    const unknown = await ann.client.post(`${API}/chats/${group}/messages/`, { content: 'x', metadata: { colour: 'red' } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.details).toHaveProperty(['metadata.colour']);
    const notObject = await ann.client.post(`${API}/chats/${group}/messages/`, { content: 'x', metadata: [1, 2] });
    expect(notObject.status).toBe(400);

    const edited = await ann.client.patch(`${API}/messages/${sent.body.id}/`, { content: 'less urgent', metadata: { priority: 4 } });
    expect(edited.status).toBe(200);
    expect(edited.body.metadata).toEqual({ priority: 4 });
    const kept = await ann.client.patch(`${API}/messages/${sent.body.id}/`, { content: 'edited again' });
    expect(kept.body.metadata).toEqual({ priority: 4 });

    const chat = await ann.client.post(`${API}/chats/`, { chat_type: 'group', title: 'Topics', metadata: { topic: 'releases' } });
    expect(chat.status).toBe(201);
    expect(chat.body.metadata).toEqual({ topic: 'releases' });
    const updated = await ann.client.patch(`${API}/chats/${chat.body.id}/`, { metadata: { topic: 'roadmap' } });
    expect(updated.status).toBe(200);
    expect(updated.body.metadata).toEqual({ topic: 'roadmap' });
    expect((await ann.client.patch(`${API}/chats/${chat.body.id}/`, { metadata: { topic: 5 } })).status).toBe(400);
  });

  it('a schema that is not valid JSON Schema stops the start with a ConfigError', async () => {
    await expect(createParley({ databaseUrl: ':memory:', logLevel: 'silent', metadataSchema: { message: { type: 'nonsense' } } })).rejects.toThrow(
      /metadataSchema\.message: not a valid JSON Schema/,
    );
  });

  it('is refused beyond 16 KB', async () => {
    const s2 = await startParley({});
    try {
      const u = await s2.user('solo');
      const chat = await u.client.post(`${API}/chats/`, { chat_type: 'group', title: 'Big' });
      const r = await u.client.post(`${API}/chats/${chat.body.id}/messages/`, { content: 'big', metadata: { blob: 'x'.repeat(17 * 1024) } });
      expect(r.status).toBe(400);
      expect(r.body.details).toHaveProperty('metadata');
      // Without a schema any object is fine.
      const ok = await u.client.post(`${API}/chats/${chat.body.id}/messages/`, { content: 'small', metadata: { anything: [1, { deep: true }] } });
      expect(ok.body.metadata).toEqual({ anything: [1, { deep: true }] });
    } finally {
      await s2.close();
    }
  });

  it('is accepted and returned on /api/dm/ and /messaging/ (4003 when invalid)', async () => {
    const dm = await ben.client.post(`/api/dm/send/${ann.id}/`, { content: 'with data', metadata: { priority: 1 } });
    expect(dm.status).toBe(201);
    expect(dm.body.metadata).toEqual({ priority: 1 });
    expect((await ben.client.post(`/api/dm/send/${ann.id}/`, { content: 'x', metadata: { priority: 0 } })).status).toBe(400);

    const p = await messagingPeer(ann.token);
    try {
      p.send('message.send', { room_id: group, content: 'socket data', metadata: { priority: 5 } });
      expect((await dispatched(p, 'socket data')).data.metadata).toEqual({ priority: 5 });
      expect((await p.fail('message.send', { room_id: group, content: 'bad', metadata: { priority: 'high' } })).code).toBe(4003);

      p.send('room.create', { room_type: 'group_chat', name: 'Socket room', metadata: { topic: 'ws' } });
      const created = await p.event('roomcreate.dispatch', (d) => d.name === 'Socket room');
      expect(created.data.metadata).toEqual({ topic: 'ws' });
      p.send('room.modify', { room_id: created.data.id, action: 'update', data: { metadata: { topic: 'changed', readOnly: false } } });
      const updated = await p.event('roomupdate.dispatch', (d) => d.id === created.data.id);
      expect(updated.data.metadata).toEqual({ topic: 'changed', readOnly: false });
      expect((await p.fail('room.modify', { room_id: created.data.id, action: 'update', data: { metadata: { nope: 1 } } })).code).toBe(4003);
    } finally {
      p.close();
    }
  });
});

describe('session hooks', () => {
  type SessionEvent = Extract<DomainEvent, { type: 'session.started' | 'session.ended' }>;
  const sessionEvents = (face: 'messaging' | 'messages', userId: number): SessionEvent[] =>
    sessions.filter((e): e is SessionEvent => (e.type === 'session.started' || e.type === 'session.ended') && e.face === face && e.userId === userId);

  it('session.started / session.ended fire for /messaging/ and /messages/ws/ connections', async () => {
    // Sockets of earlier tests may still be closing: follow only the sessions opened here.
    const seen = new Set(sessions);
    const fresh = (face: 'messaging' | 'messages', userId: number) => sessionEvents(face, userId).filter((e) => !seen.has(e));

    const p = await messagingPeer(ben.token);
    await vi.waitFor(() => expect(fresh('messaging', ben.id).map((e) => e.type)).toContain('session.started'));
    const started = fresh('messaging', ben.id).find((e) => e.type === 'session.started') as SessionEvent;
    p.close();
    await vi.waitFor(() => expect(fresh('messaging', ben.id).filter((e) => e.sessionId === started.sessionId).map((e) => e.type)).toEqual(['session.started', 'session.ended']));
    expect(fresh('messaging', ben.id).find((e) => e.type === 'session.ended' && e.sessionId === started.sessionId)).toMatchObject({ reason: 'closed' });

    const live = await peer(ann.token, '/messages/ws/');
    await vi.waitFor(() => expect(fresh('messages', ann.id).map((e) => e.type)).toContain('session.started'));
    const liveStarted = fresh('messages', ann.id).find((e) => e.type === 'session.started') as SessionEvent;
    live.close();
    await vi.waitFor(() =>
      expect(fresh('messages', ann.id).filter((e) => e.sessionId === liveStarted.sessionId).map((e) => e.type)).toEqual(['session.started', 'session.ended']),
    );
  });

  it('session.ended says "expired" when the sweep closes a session that missed its heartbeats', async () => {
    const events: DomainEvent[] = [];
    const quick = await startParley({
      inactivityThreshold: 1,
      lifecycle: { after: { 'session.ended': (e) => void events.push(e) } },
    });
    try {
      const u = await quick.user('quiet');
      const ws = new WebSocket(`${quick.url.replace(/^http/, 'ws')}/messaging/?token=${u.token}`);
      const p = new Peer(ws);
      await p.event('session.ready');
      // No heartbeat: the once-a-second sweep closes it with 4000 after a second or two.
      expect((await p.closed).code).toBe(4000);
      await vi.waitFor(() => expect(events).toHaveLength(1));
      expect(events[0]).toMatchObject({ type: 'session.ended', userId: u.id, face: 'messaging', reason: 'expired' });
    } finally {
      await quick.close();
    }
  });
});
