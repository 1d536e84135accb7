import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer, TestUser } from './harness.js';
import { type WsClient, connectWs } from './live-fixtures.js';
import { API, createGroup, expectStatus, newUser, send, startRestServer } from './rest-fixtures.js';

/**
 * `/messages/api/` as a Django view takes requests: form-encoded bodies work like JSON ones,
 * and a 400 names each field with DRF's own texts. `/messages/ws/` never sends empty
 * `reactions`/`read_by` on `message_updated` that a client would take as the truth.
 */

let s: TestServer;
let a: TestUser;
let b: TestUser;
beforeAll(async () => {
  s = await startRestServer();
  [a, b] = await Promise.all([newUser(s, 'fa'), newUser(s, 'fb')]);
});
afterAll(() => s.close());

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const form = (user: TestUser, path: string, fields: [string, string][]) => user.client.post(path, new URLSearchParams(fields).toString(), FORM);

describe('form-encoded bodies on /messages/api/', () => {
  it('creates a chat, sends, replies and marks read with urlencoded bodies; repeated keys are lists', async () => {
    const c = await newUser(s, 'fc');
    const chat = await form(a, `${API}/chats/`, [
      ['chat_type', 'group'],
      ['title', 'Form made'],
      ['member_ids', String(b.id)],
      ['member_ids', String(c.id)],
    ]);
    expectStatus(chat, 201);
    expect(chat.body).toMatchObject({ chat_type: 'group', title: 'Form made' });
    expect(chat.body.members.map((m: { id: number }) => m.id).sort()).toEqual([a.id, b.id, c.id].sort());

    const first = await form(a, `${API}/chats/${chat.body.id}/messages/`, [['content', 'hello from a form']]);
    expectStatus(first, 201);
    expect(first.body.content).toBe('hello from a form');
    // Numbers arrive as text and are read as numbers, as DRF's serializers do.
    const reply = await form(b, `${API}/chats/${chat.body.id}/messages/`, [
      ['content', 'a reply'],
      ['parent_id', String(first.body.id)],
    ]);
    expectStatus(reply, 201);
    expect(reply.body.parent_id).toBe(first.body.id);

    const read = await form(c, `${API}/chats/${chat.body.id}/mark-as-read/`, [['message_id', String(first.body.id)]]);
    expectStatus(read, 200);
    expect(read.body).toEqual({ status: 'success', marked_count: 1 });
  });

  it('refuses a bad form like a bad JSON body: 400 with the field named', async () => {
    const chat = await createGroup(a, [b], 'Bad forms');
    const missing = await form(a, `${API}/chats/${chat.id}/messages/`, [['client_id', 'form-1']]);
    expect(missing.status).toBe(400);
    expect(missing.body.details.content).toEqual(['This field is required.']);
    const notANumber = await form(a, `${API}/chats/${chat.id}/messages/`, [
      ['content', 'x'],
      ['parent_id', 'abc'],
    ]);
    expect(notANumber.status).toBe(400);
    expect(notANumber.body.details.parent_id).toEqual(['A valid integer is required.']);
  });
});

describe('DRF texts in 400 details', () => {
  it('names each bad field once, in the words DRF uses', async () => {
    const r = await a.client.post(`${API}/chats/`, { chat_type: 'group', title: 7, member_ids: 'x', is_public: 'maybe' });
    expect(r.status).toBe(400);
    expect(r.body).toEqual({
      error: 'Invalid request',
      details: {
        title: ['Not a valid string.'],
        member_ids: ['Expected a list of items but got type "str".'],
        is_public: ['Must be a valid boolean.'],
      },
    });
    const choice = await a.client.post(`${API}/chats/`, { chat_type: 'party' });
    expect(choice.status).toBe(400);
    expect(choice.body.details).toEqual({ chat_type: ['"party" is not a valid choice.'] });
    const chat = await createGroup(a, [b], 'Texts');
    const number = await a.client.post(`${API}/chats/${chat.id}/messages/`, { content: 5 });
    expect(number.body.details).toEqual({ content: ['Not a valid string.'] });
    const id = await a.client.post(`${API}/chats/${chat.id}/messages/`, { content: 'x', parent_id: 'one' });
    expect(id.body.details).toEqual({ parent_id: ['A valid integer is required.'] });
    const missing = await a.client.post(`${API}/chats/`, {});
    expect(missing.body.details).toEqual({ chat_type: ['This field is required.'] });
    for (const r2 of [r, choice, number, id, missing]) expect(JSON.stringify(r2.body)).not.toMatch(/must /);
  });
});

describe('message_updated on /messages/ws/', () => {
  let ws: WsClient;
  afterAll(() => ws?.close());

  it('carries no reactions or read_by, so a client keeps the real ones', async () => {
    const chat = await createGroup(a, [b], 'Updates');
    ws = await connectWs(s, b);
    const m = await send(a, chat.id, 'to edit');
    expectStatus(await b.client.post(`${API}/messages/${m.id}/reactions/`, { emoji: '👍' }), 200);
    expectStatus(await b.client.post(`${API}/chats/${chat.id}/mark-as-read/`, {}), 200);
    const from = ws.frames.items.length;
    expectStatus(await a.client.patch(`${API}/messages/${m.id}/`, { content: 'edited' }), 200);
    const upd = await ws.next('message_updated', (x) => x.message.id === m.id, from);
    expect(upd.message).toMatchObject({ id: m.id, content: 'edited', is_edited: true });
    expect(upd.message).not.toHaveProperty('reactions');
    expect(upd.message).not.toHaveProperty('read_by');
    // What the frame leaves out is still there, as the REST view shows.
    const rest = await b.client.get(`${API}/messages/${m.id}/`);
    expect(rest.body.reactions).toEqual([{ emoji: '👍', count: 1, users: [b.id] }]);
    expect(rest.body.read_by.sort()).toEqual([a.id, b.id].sort());
    const { reactions: _r, read_by: _b, ...shown } = rest.body;
    expect(upd.message).toEqual(shown);
  });
});
