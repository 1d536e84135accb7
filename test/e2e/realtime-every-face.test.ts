import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, startServer } from './harness.js';
import { connectWs, headCursor, openSse, pollUntil } from './live-fixtures.js';
import { connect, ev } from './messaging-client.js';

/**
 * One event stream, every face: a message sent through any API reaches the same user on
 * every transport at once — `/messaging/`, `/messages/ws/`, long-poll and SSE.
 */
let s: TestServer;
beforeAll(async () => {
  s = await startServer();
});
afterAll(() => s.close());

describe('one event stream for every face', () => {
  it('a message sent through REST, /api/dm/ and /messaging/ reaches all four transports', async () => {
    const ann = await s.user('ann');
    const bob = await s.user('bob');
    const chat = (await ann.client.post('/messages/api/chats/', { chat_type: 'dm', member_ids: [bob.id] })).body;

    const cursor = await headCursor(bob);
    const messaging = await connect(s, bob.token);
    const messagesWs = await connectWs(s, bob);
    const sse = await openSse(s, bob, { cursor });
    await sse.next('ready');

    const annMessaging = await connect(s, ann.token);
    const sent: number[] = [];
    sent.push((await ann.client.post(`/messages/api/chats/${chat.id}/messages/`, { content: 'via REST' })).body.id);
    sent.push((await ann.client.post(`/api/dm/send/${bob.id}/`, { content: 'via /api/dm/' })).body.id);
    annMessaging.send('message.send', { room_id: chat.id, content: 'via /messaging/' });
    sent.push((await annMessaging.event('message.dispatch', (d) => d.content === 'via /messaging/')).data.id);

    for (const id of sent) {
      const f = await messaging.next((x) => ev('message.dispatch')(x) && x.data.id === id, `message ${id} on /messaging/`);
      expect(typeof f.cursor).toBe('string');
      await messagesWs.next('new_message', (x) => x.message.id === id);
      await sse.next('new_message', (e) => e.data.message.id === id);
    }
    const { events: polled } = await pollUntil(bob, cursor, (events) => events.filter((e) => e.type === 'new_message').length >= 3);
    expect(polled.filter((e) => e.type === 'new_message').map((e) => e.message.id)).toEqual(sent);
    expect(messagesWs.frames.items.filter((f) => f.type === 'new_message').map((f) => f.message.id)).toEqual(sent);

    messaging.ws.close();
    annMessaging.ws.close();
    await messagesWs.close();
    await sse.close();
  });
});
