import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ParleyError } from '../../src/core/index.js';
import { type MessagingHandlers, messagingFace } from '../../src/faces/messaging/face.js';
import { type TestServer, type TestUser, startServer } from './harness.js';
import { type Peer, connect } from './messaging-client.js';

/**
 * The seed's EVENT_MAPPER: a host adds, replaces or removes event types. The app does not
 * take handlers from its configuration yet, so this mounts a second `/messaging/`-protocol
 * route with host handlers on the running server, next to the default one.
 */

let s: TestServer;
let alice: TestUser;
let bob: TestUser;
const logged: { eventType: string; userId: number; err: { message: string }; msg: string }[] = [];
/** A real pino logger writing to memory, so the test sees what the face logged. */
const log = pino({ level: 'error' }, { write: (line: string) => logged.push(JSON.parse(line)) });
const peers: Peer[] = [];
const open = async (u: TestUser, path = '/hosted/') => {
  const p = await connect(s, u.token, { path });
  peers.push(p);
  return p;
};

const handlers: MessagingHandlers = {
  async 'custom.echo'(ctx) {
    ctx.reply({ eventType: 'custom.echoed', data: { you_said: ctx.data.text ?? null, user_id: ctx.user.id } });
  },
  async 'session.heartbeat'(ctx) {
    ctx.session.refresh();
    ctx.socket.sendJson({ status: 'success', host: true });
  },
  'room.join': null,
  async 'custom.boom'() {
    throw new Error('database exploded at /var/secret/path');
  },
  async 'custom.conflict'() {
    throw new ParleyError('conflict', 'Already there.', { name: ['Already there.'] });
  },
  async 'custom.disabled'() {
    throw new ParleyError('feature_disabled', 'Polls are disabled.');
  },
  async 'custom.unavailable'() {
    throw new ParleyError('unavailable', 'store down');
  },
  async 'custom.logout'() {
    throw new ParleyError('unauthenticated', 'Your token was revoked.');
  },
};

beforeAll(async () => {
  s = await startServer();
  const { core, accounts, config, hub } = s.app;
  s.app.ws.route(
    messagingFace({ core, accounts, hub, log, config: { ...config, websocketPath: 'hosted/' } }, handlers),
  );
  alice = await s.user('alice');
  bob = await s.user('bob');
});
afterAll(async () => {
  for (const p of peers) p.close();
  await s.close();
});

describe('host handlers', () => {
  it('add an event type: ctx.reply reaches every session of the user on this face', async () => {
    const [p1, p2, other] = await Promise.all([open(alice), open(alice), open(bob)]);
    p1.send('custom.echo', { text: 'hi' });
    const expected = { eventType: 'custom.echoed', data: { you_said: 'hi', user_id: alice.id } };
    expect(await p1.event('custom.echoed')).toEqual(expected);
    expect(await p2.event('custom.echoed')).toEqual(expected);
    expect(await other.leftovers(s)).toEqual([]);
  });

  it('replace one: the host’s heartbeat answers', async () => {
    const p = await open(alice);
    p.send('session.heartbeat', {});
    expect(await p.next((f) => f.status === 'success')).toEqual({ status: 'success', host: true });
  });

  it('remove one (null): it becomes an invalid event type', async () => {
    const p = await open(alice);
    expect(await p.fail('room.join', { room_id: 1 })).toEqual({ code: 4003, detail: 'invalid event type' });
  });

  it('the defaults still work, and broadcasts reach both routes', async () => {
    const hosted = await open(alice);
    const plain = await open(bob, '/messaging/');
    hosted.send('room.create', { room_type: 'one_to_one', user_id: bob.id });
    const room = (await hosted.event('roomcreate.dispatch')).data.id;
    await plain.event('roomcreate.dispatch', (d) => d.id === room);
    hosted.send('message.send', { room_id: room, content: 'across' });
    expect((await plain.event('message.dispatch')).data.content).toBe('across');
    expect((await hosted.event('message.dispatch')).data.content).toBe('across');
    // The default route knows nothing of the host's events.
    expect(await plain.fail('custom.echo', {})).toEqual({ code: 4003, detail: 'invalid event type' });
  });

  it('an unexpected error is a 4006 "Internal server error"; the real one is only logged', async () => {
    const p = await open(alice);
    expect(await p.fail('custom.boom', {})).toEqual({ code: 4006, detail: 'Internal server error' });
    expect(await p.fail('custom.unavailable', {})).toEqual({ code: 4006, detail: 'Internal server error' });
    expect(logged.map((l) => [l.eventType, l.userId, l.err.message])).toEqual([
      ['custom.boom', alice.id, 'database exploded at /var/secret/path'],
      ['custom.unavailable', alice.id, 'store down'],
    ]);
    await p.heartbeat();
  });

  it('core errors map through the table: conflict 4005, feature_disabled 4002', async () => {
    const p = await open(alice);
    expect(await p.fail('custom.conflict', {})).toEqual({ code: 4005, detail: 'name: Already there.' });
    expect(await p.fail('custom.disabled', {})).toEqual({ code: 4002, detail: 'Polls are disabled.' });
  });

  it('unauthenticated closes the socket with 4001', async () => {
    const p = await open(alice);
    p.send('custom.logout', {});
    expect(await p.closed).toEqual({ code: 4001, reason: 'Your token was revoked.' });
  });
});
