import { afterAll, beforeAll, expect, it } from 'vitest';
import { type TestServer, startServer } from './harness.js';

let s: TestServer;
beforeAll(async () => { s = await startServer(); });
afterAll(() => s.close());

it('smoke: DM, group, messages, reactions, read', async () => {
  const a = await s.user('ann', { display_name: 'Ann Smith' });
  const b = await s.user('ben');
  const dm = await a.client.post('/messages/api/chats/', { chat_type: 'dm', member_ids: [b.id] });
  expect(dm.status).toBe(201);
  const again = await b.client.post('/messages/api/chats/', { chat_type: 'dm', member_ids: [a.id] });
  expect(again.status).toBe(200);
  expect(again.body.id).toBe(dm.body.id);
  expect(again.body.title).toBe('Ann Smith');
  const m = await a.client.post(`/messages/api/chats/${dm.body.id}/messages/`, { content: 'hello <b>' });
  expect(m.status).toBe(201);
  const list = await b.client.get('/messages/api/chats/');
  expect(list.body.results[0].unread_count).toBe(1);
  const r = await b.client.post(`/messages/api/messages/${m.body.id}/reactions/`, { emoji: '👍' });
  expect(r.body).toEqual({ action: 'added', emoji: '👍', message_id: m.body.id });
  const read = await b.client.post(`/messages/api/chats/${dm.body.id}/mark-as-read/`);
  expect(read.body).toEqual({ status: 'success', marked_count: 1 });
  const msgs = await a.client.get(`/messages/api/chats/${dm.body.id}/messages/`);
  expect(msgs.body.results[0]).toMatchObject({ content: 'hello <b>', read_by: [a.id, b.id], reactions: [{ emoji: '👍', count: 1, users: [b.id] }] });
  const search = await b.client.get('/messages/api/search/?q=hel');
  expect(search.body.results[0].highlighted).toBe('<mark>hello</mark> &lt;b&gt;');
  const room = await a.client.get('/messages/api/rooms/?object=product:42');
  expect(room.status).toBe(200);
  expect(room.body).toMatchObject({ chat_type: 'room', member_count: 0, is_member: false, object: 'product:42' });
  const docs = await s.anon.get('/api/schema/');
  expect(Object.keys(docs.body.paths)).toContain('/messages/api/chats/{chat_id}/messages/');
});
