import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer, TestUser } from './harness.js';
import { API, createChat, createGroup, expectInvalid, expectStatus, ids, newUser, send, startRestServer } from './rest-fixtures.js';

const PER_PAGE = 5;
let s: TestServer;
beforeAll(async () => {
  s = await startRestServer({ messagesPerPage: PER_PAGE });
});
afterAll(() => s.close());

const contents = (r: { body: { results: { content: string }[] } }) => r.body.results.map((m) => m.content);

describe('GET /chats/{id}/messages/ (list)', () => {
  let a: TestUser;
  let b: TestUser;
  let chat: any;
  let msgs: any[];
  beforeAll(async () => {
    a = await newUser(s, 'la', { display_name: 'List A' });
    b = await newUser(s, 'lb');
    chat = await createGroup(a, [b], 'History');
    msgs = [];
    for (let i = 1; i <= 12; i++) msgs.push(await send(i % 2 ? a : b, chat.id, `m${i}`));
  });

  it('page 1 holds the newest messagesPerPage messages, oldest first, with count and a next link', async () => {
    const r = await b.client.get(`${API}/chats/${chat.id}/messages/`);
    expectStatus(r, 200);
    expect(Object.keys(r.body).sort()).toEqual(['count', 'next', 'previous', 'results']);
    expect(r.body.count).toBe(12);
    expect(contents(r)).toEqual(['m8', 'm9', 'm10', 'm11', 'm12']);
    expect(r.body.previous).toBeNull();
    expect(r.body.next).toBe(`${s.url}${API}/chats/${chat.id}/messages/?page=2`);
  });

  it('page 2 and 3 go back in time; the last page has no next and a previous link', async () => {
    const p2 = await b.client.get(`${API}/chats/${chat.id}/messages/?page=2`);
    expect(contents(p2)).toEqual(['m3', 'm4', 'm5', 'm6', 'm7']);
    expect(p2.body.previous).toBe(`${s.url}${API}/chats/${chat.id}/messages/`);
    expect(p2.body.next).toBe(`${s.url}${API}/chats/${chat.id}/messages/?page=3`);
    const p3 = await b.client.get(`${API}/chats/${chat.id}/messages/?page=3`);
    expect(contents(p3)).toEqual(['m1', 'm2']);
    expect(p3.body.next).toBeNull();
    expect(p3.body.previous).toBe(`${s.url}${API}/chats/${chat.id}/messages/?page=2`);
    expect(p3.body.count).toBe(12);
  });

  it('before=<id> gives the newest messages before that one, oldest first', async () => {
    const r = await b.client.get(`${API}/chats/${chat.id}/messages/?before=${msgs[7].id}`);
    expectStatus(r, 200);
    expect(contents(r)).toEqual(['m3', 'm4', 'm5', 'm6', 'm7']);
    expect(r.body.count).toBe(7);
    const next = new URL(r.body.next);
    expect(next.searchParams.get('before')).toBe(String(msgs[7].id));
    expect(next.searchParams.get('page')).toBe('2');
    const p2 = await b.client.get(r.body.next.replace(s.url, ''));
    expect(contents(p2)).toEqual(['m1', 'm2']);
    const few = await b.client.get(`${API}/chats/${chat.id}/messages/?before=${msgs[2].id}`);
    expect(contents(few)).toEqual(['m1', 'm2']);
    expect(few.body.next).toBeNull();
  });

  it('after=<id> gives the oldest messages after that one, oldest first', async () => {
    const r = await b.client.get(`${API}/chats/${chat.id}/messages/?after=${msgs[2].id}`);
    expectStatus(r, 200);
    expect(contents(r)).toEqual(['m4', 'm5', 'm6', 'm7', 'm8']);
    expect(r.body.count).toBe(9);
    expect(r.body.next).not.toBeNull();
    const p2 = await b.client.get(r.body.next.replace(s.url, ''));
    expect(contents(p2)).toEqual(['m9', 'm10', 'm11', 'm12']);
    const tail = await b.client.get(`${API}/chats/${chat.id}/messages/?after=${msgs[10].id}`);
    expect(contents(tail)).toEqual(['m12']);
    expect(tail.body).toMatchObject({ count: 1, next: null });
    const none = await b.client.get(`${API}/chats/${chat.id}/messages/?after=${msgs[11].id}`);
    expect(none.body).toMatchObject({ count: 0, results: [], next: null, previous: null });
  });

  it('before and after together give the window between them', async () => {
    const r = await b.client.get(`${API}/chats/${chat.id}/messages/?after=${msgs[2].id}&before=${msgs[6].id}`);
    expect(contents(r)).toEqual(['m4', 'm5', 'm6']);
    expect(r.body.count).toBe(3);
  });

  it('rejects a before/after id from another chat, an unknown id and a bad page with 400', async () => {
    const other = await createGroup(a, [], 'Other');
    const foreign = await send(a, other.id, 'elsewhere');
    expectInvalid(await a.client.get(`${API}/chats/${chat.id}/messages/?before=${foreign.id}`), 'before');
    expectInvalid(await a.client.get(`${API}/chats/${chat.id}/messages/?after=${foreign.id}`), 'after');
    expectInvalid(await a.client.get(`${API}/chats/${chat.id}/messages/?after=99999999`), 'after');
    expectInvalid(await a.client.get(`${API}/chats/${chat.id}/messages/?before=abc`), 'before');
    expectInvalid(await a.client.get(`${API}/chats/${chat.id}/messages/?page=0`), 'page');
  });

  it('each message has the seed fields: is_edited, is_deleted, sender with avatar_url, reactions, read_by', async () => {
    const r = await b.client.get(`${API}/chats/${chat.id}/messages/?page=3`);
    const m1 = r.body.results[0];
    expect(m1).toMatchObject({
      id: msgs[0].id,
      chat: chat.id,
      content: 'm1',
      is_edited: false,
      is_deleted: false,
      sender: { id: a.id, username: a.username, display_name: 'List A' },
      reactions: [],
      parent_id: null,
    });
    expect(typeof m1.sender.avatar_url).toBe('string');
    expect(m1.created_at).toEqual(expect.any(String));
    expect(m1.updated_at).toEqual(expect.any(String));
    expect(Array.isArray(m1.read_by)).toBe(true);
  });

  it('an empty chat lists nothing', async () => {
    const g = await createGroup(a, [], 'Empty');
    const r = await a.client.get(`${API}/chats/${g.id}/messages/`);
    expect(r.body).toEqual({ count: 0, next: null, previous: null, results: [] });
  });
});

describe('POST /chats/{id}/messages/ (send)', () => {
  let a: TestUser;
  let b: TestUser;
  let chat: any;
  beforeAll(async () => {
    a = await newUser(s, 'sa');
    b = await newUser(s, 'sb');
    chat = await createChat(a, { chat_type: 'dm', member_ids: [b.id] });
  });

  it('sends with 201 and returns the message with its sender', async () => {
    const r = await a.client.post(`${API}/chats/${chat.id}/messages/`, { content: 'Hello, everyone!' });
    expectStatus(r, 201);
    expect(r.body).toMatchObject({ content: 'Hello, everyone!', chat: chat.id, sender: { id: a.id, username: a.username }, is_edited: false, is_deleted: false });
    expect(r.body.id).toEqual(expect.any(Number));
    expect(r.body.created_at).toEqual(expect.any(String));
    // The sender has read their own message.
    expect(r.body.read_by).toEqual([a.id]);
  });

  it('a retried client_id returns 200 with the same message and stores only one', async () => {
    const g = await createGroup(a, [b], 'Retry');
    const first = await a.client.post(`${API}/chats/${g.id}/messages/`, { content: 'once', client_id: 'abc-123' });
    expectStatus(first, 201);
    expect(first.body.client_id).toBe('abc-123');
    const retry = await a.client.post(`${API}/chats/${g.id}/messages/`, { content: 'once', client_id: 'abc-123' });
    expectStatus(retry, 200);
    expect(retry.body.id).toBe(first.body.id);
    const list = await a.client.get(`${API}/chats/${g.id}/messages/`);
    expect(list.body.count).toBe(1);
    expect(ids(list.body.results)).toEqual([first.body.id]);
    // The recipient's unread count counts it once.
    const bl = await b.client.get(`${API}/chats/`);
    expect(bl.body.results.find((c: any) => c.id === g.id).unread_count).toBe(1);
    // The same client_id from another sender is another message.
    const other = await b.client.post(`${API}/chats/${g.id}/messages/`, { content: 'once', client_id: 'abc-123' });
    expectStatus(other, 201);
    expect(other.body.id).not.toBe(first.body.id);
  });

  it('two simultaneous sends with one client_id store one message', async () => {
    const g = await createGroup(a, [b], 'Retry race');
    const [x, y] = await Promise.all([
      a.client.post(`${API}/chats/${g.id}/messages/`, { content: 'race', client_id: 'same' }),
      a.client.post(`${API}/chats/${g.id}/messages/`, { content: 'race', client_id: 'same' }),
    ]);
    expect([x.status, y.status].sort()).toEqual([200, 201]);
    expect(x.body.id).toBe(y.body.id);
    expect((await a.client.get(`${API}/chats/${g.id}/messages/`)).body.count).toBe(1);
  });

  it('refuses blank content with 400 details.content', async () => {
    for (const content of ['', '   ', '\n\t']) {
      const r = await a.client.post(`${API}/chats/${chat.id}/messages/`, { content });
      expectInvalid(r, 'content');
    }
    const missing = await a.client.post(`${API}/chats/${chat.id}/messages/`, {});
    expectInvalid(missing, 'content');
    expect(missing.body.details.content).toEqual(['This field is required.']);
    const nobody = await a.client.post(`${API}/chats/${chat.id}/messages/`);
    expectInvalid(nobody, 'content');
  });

  it('refuses content over messageMaxLength (10000 by default) with 400 details.content', async () => {
    const ok = await a.client.post(`${API}/chats/${chat.id}/messages/`, { content: 'x'.repeat(10_000) });
    expectStatus(ok, 201);
    const r = await a.client.post(`${API}/chats/${chat.id}/messages/`, { content: 'x'.repeat(10_001) });
    expectInvalid(r, 'content');
    expect(r.body.details.content[0]).toMatch(/10000/);
    // Counted in characters, not UTF-16 units or bytes.
    const emoji = await a.client.post(`${API}/chats/${chat.id}/messages/`, { content: '😀'.repeat(10_000) });
    expectStatus(emoji, 201);
  });

  it('refuses wrong types and unknown fields with 400', async () => {
    expectInvalid(await a.client.post(`${API}/chats/${chat.id}/messages/`, { content: 5 }), 'content');
    expectInvalid(await a.client.post(`${API}/chats/${chat.id}/messages/`, { content: null }), 'content');
    expectInvalid(await a.client.post(`${API}/chats/${chat.id}/messages/`, { content: ['hi'] }), 'content');
    const extra = await a.client.post(`${API}/chats/${chat.id}/messages/`, { content: 'hi', sender_id: b.id });
    expectInvalid(extra, 'sender_id');
    expectInvalid(await a.client.post(`${API}/chats/${chat.id}/messages/`, { content: 'hi', parent_id: 'x' }), 'parent_id');
    expectInvalid(await a.client.post(`${API}/chats/${chat.id}/messages/`, { content: 'hi', client_id: '' }), 'client_id');
    expectInvalid(await a.client.post(`${API}/chats/${chat.id}/messages/`, '[1, 2]'), 'non_field_errors');
    const malformed = await a.client.post(`${API}/chats/${chat.id}/messages/`, '{"content": ');
    expectInvalid(malformed, 'non_field_errors');
  });

  it('replies with parent_id in the same chat; a parent in another chat or unknown is 400', async () => {
    const parent = await send(a, chat.id, 'question?');
    const reply = await b.client.post(`${API}/chats/${chat.id}/messages/`, { content: 'answer', parent_id: parent.id });
    expectStatus(reply, 201);
    expect(reply.body.parent_id).toBe(parent.id);
    const other = await createGroup(a, [], 'Elsewhere');
    const foreign = await send(a, other.id, 'not here');
    expectInvalid(await a.client.post(`${API}/chats/${chat.id}/messages/`, { content: 'x', parent_id: foreign.id }), 'parent_id');
    expectInvalid(await a.client.post(`${API}/chats/${chat.id}/messages/`, { content: 'x', parent_id: 99999999 }), 'parent_id');
  });

  it('stores content verbatim (HTML is data, not markup)', async () => {
    const r = await a.client.post(`${API}/chats/${chat.id}/messages/`, { content: '<script>alert(1)</script> & "q"' });
    expect(r.body.content).toBe('<script>alert(1)</script> & "q"');
    const d = await b.client.get(`${API}/messages/${r.body.id}/`);
    expect(d.body.content).toBe('<script>alert(1)</script> & "q"');
  });
});

describe('/messages/{id}/ (detail, edit, delete)', () => {
  let a: TestUser;
  let b: TestUser;
  let chat: any;
  beforeAll(async () => {
    a = await newUser(s, 'ea');
    b = await newUser(s, 'eb');
    chat = await createGroup(a, [b], 'Edits');
  });

  it('GET returns the message with its chat', async () => {
    const m = await send(a, chat.id, 'Hello!');
    const r = await b.client.get(`${API}/messages/${m.id}/`);
    expectStatus(r, 200);
    expect(r.body).toMatchObject({ id: m.id, content: 'Hello!', chat: chat.id, sender: { id: a.id } });
    expect(r.body.created_at).toBe(m.created_at);
  });

  it('PUT and PATCH edit your own message; is_edited becomes true', async () => {
    const m = await send(a, chat.id, 'typo');
    const put = await a.client.put(`${API}/messages/${m.id}/`, { content: 'Updated message content' });
    expectStatus(put, 200);
    expect(put.body).toMatchObject({ id: m.id, content: 'Updated message content', is_edited: true, chat: chat.id });
    const patch = await a.client.patch(`${API}/messages/${m.id}/`, { content: 'again' });
    expectStatus(patch, 200);
    expect(patch.body.content).toBe('again');
    const seen = await b.client.get(`${API}/messages/${m.id}/`);
    expect(seen.body).toMatchObject({ content: 'again', is_edited: true });
    expect(Date.parse(seen.body.updated_at)).toBeGreaterThan(Date.parse(m.created_at));
    const listed = await b.client.get(`${API}/chats/${chat.id}/messages/`);
    expect(listed.body.results.find((x: any) => x.id === m.id)).toMatchObject({ content: 'again', is_edited: true });
  });

  it('an edit is validated like a send', async () => {
    const m = await send(a, chat.id, 'valid');
    expectInvalid(await a.client.patch(`${API}/messages/${m.id}/`, { content: '  ' }), 'content');
    expectInvalid(await a.client.patch(`${API}/messages/${m.id}/`, {}), 'content');
    expectInvalid(await a.client.patch(`${API}/messages/${m.id}/`, { content: 1 }), 'content');
    expectInvalid(await a.client.patch(`${API}/messages/${m.id}/`, { content: 'x', chat: 3 }), 'chat');
    expectInvalid(await a.client.patch(`${API}/messages/${m.id}/`, { content: 'x'.repeat(10_001) }), 'content');
    expect((await a.client.get(`${API}/messages/${m.id}/`)).body).toMatchObject({ content: 'valid', is_edited: false });
  });

  it('DELETE answers 204, then the message is 404 and gone from the list (hard delete by default)', async () => {
    const m = await send(a, chat.id, 'to delete');
    const r = await a.client.delete(`${API}/messages/${m.id}/`);
    expect(r.status).toBe(204);
    expect(r.text).toBe('');
    expect((await a.client.get(`${API}/messages/${m.id}/`)).status).toBe(404);
    expect((await b.client.get(`${API}/messages/${m.id}/`)).body).toEqual({ detail: 'Not found.' });
    const list = await b.client.get(`${API}/chats/${chat.id}/messages/?page=1`);
    expect(ids(list.body.results)).not.toContain(m.id);
    expectStatus(await a.client.delete(`${API}/messages/${m.id}/`), 404);
    expectStatus(await a.client.patch(`${API}/messages/${m.id}/`, { content: 'resurrect' }), 404);
    expectStatus(await a.client.post(`${API}/messages/${m.id}/reactions/`, { emoji: '👍' }), 404);
  });

  it('deleting the last message updates the chat list last_message and unread_count', async () => {
    const g = await createGroup(a, [b], 'Last');
    const keep = await send(a, g.id, 'keep');
    const gone = await send(a, g.id, 'gone');
    let item = (await b.client.get(`${API}/chats/`)).body.results.find((c: any) => c.id === g.id);
    expect(item).toMatchObject({ last_message: { id: gone.id }, unread_count: 2 });
    await a.client.delete(`${API}/messages/${gone.id}/`);
    item = (await b.client.get(`${API}/chats/`)).body.results.find((c: any) => c.id === g.id);
    expect(item).toMatchObject({ last_message: { id: keep.id, content: 'keep' }, unread_count: 1 });
  });

  it('answers 404 for an unknown message id', async () => {
    expect((await a.client.get(`${API}/messages/999999/`)).body).toEqual({ detail: 'Not found.' });
  });
});

describe('POST /messages/{id}/reactions/ (toggle)', () => {
  it('adds then removes, answering exactly {action, emoji, message_id}', async () => {
    const a = await newUser(s, 'ra');
    const b = await newUser(s, 'rb');
    const c = await newUser(s, 'rc');
    const g = await createGroup(a, [b, c], 'Reactions');
    const m = await send(a, g.id, 'react to me');

    const add = await b.client.post(`${API}/messages/${m.id}/reactions/`, { emoji: '👍' });
    expectStatus(add, 200);
    expect(add.body).toEqual({ action: 'added', emoji: '👍', message_id: m.id });
    const add2 = await c.client.post(`${API}/messages/${m.id}/reactions/`, { emoji: '👍' });
    expect(add2.body).toEqual({ action: 'added', emoji: '👍', message_id: m.id });
    await c.client.post(`${API}/messages/${m.id}/reactions/`, { emoji: '🎉' });

    let d = await a.client.get(`${API}/messages/${m.id}/`);
    expect(d.body.reactions).toEqual([
      { emoji: '👍', count: 2, users: [b.id, c.id] },
      { emoji: '🎉', count: 1, users: [c.id] },
    ]);

    const remove = await b.client.post(`${API}/messages/${m.id}/reactions/`, { emoji: '👍' });
    expect(remove.body).toEqual({ action: 'removed', emoji: '👍', message_id: m.id });
    d = await a.client.get(`${API}/messages/${m.id}/`);
    expect(d.body.reactions).toEqual([
      { emoji: '👍', count: 1, users: [c.id] },
      { emoji: '🎉', count: 1, users: [c.id] },
    ]);
    const list = await a.client.get(`${API}/chats/${g.id}/messages/`);
    expect(list.body.results.find((x: any) => x.id === m.id).reactions).toEqual(d.body.reactions);

    await c.client.post(`${API}/messages/${m.id}/reactions/`, { emoji: '👍' });
    await c.client.post(`${API}/messages/${m.id}/reactions/`, { emoji: '🎉' });
    expect((await a.client.get(`${API}/messages/${m.id}/`)).body.reactions).toEqual([]);
  });

  it('validates the emoji', async () => {
    const a = await newUser(s, 'rv');
    const g = await createGroup(a, [], 'Emoji');
    const m = await send(a, g.id, 'x');
    expectInvalid(await a.client.post(`${API}/messages/${m.id}/reactions/`, {}), 'emoji');
    expectInvalid(await a.client.post(`${API}/messages/${m.id}/reactions/`, { emoji: '' }), 'emoji');
    expectInvalid(await a.client.post(`${API}/messages/${m.id}/reactions/`, { emoji: '   ' }), 'emoji');
    expectInvalid(await a.client.post(`${API}/messages/${m.id}/reactions/`, { emoji: 1 }), 'emoji');
    expectInvalid(await a.client.post(`${API}/messages/${m.id}/reactions/`, { emoji: '👍', extra: 1 }), 'extra');
  });
});

describe('POST /chats/{id}/mark-as-read/', () => {
  it('marks everything read: {status, marked_count}; unread_count and read_by follow', async () => {
    const a = await newUser(s, 'mra');
    const b = await newUser(s, 'mrb');
    const c = await newUser(s, 'mrc');
    const g = await createGroup(a, [b, c], 'Reading');
    await send(b, g.id, 'mine');
    const m1 = await send(a, g.id, 'one');
    await send(c, g.id, 'two');
    const m3 = await send(a, g.id, 'three');

    const before = (await b.client.get(`${API}/chats/`)).body.results.find((x: any) => x.id === g.id);
    expect(before.unread_count).toBe(3);
    // Posting counts as having read what came before: c, who replied after m1, has read it.
    expect((await b.client.get(`${API}/messages/${m1.id}/`)).body.read_by.sort()).toEqual([a.id, c.id].sort());
    expect((await b.client.get(`${API}/messages/${m3.id}/`)).body.read_by).toEqual([a.id]);

    const r = await b.client.post(`${API}/chats/${g.id}/mark-as-read/`);
    expectStatus(r, 200);
    expect(r.body).toEqual({ status: 'success', marked_count: 3 });

    const after = (await b.client.get(`${API}/chats/`)).body.results.find((x: any) => x.id === g.id);
    expect(after.unread_count).toBe(0);
    expect((await a.client.get(`${API}/messages/${m1.id}/`)).body.read_by.sort()).toEqual([a.id, b.id, c.id].sort());
    expect((await a.client.get(`${API}/messages/${m3.id}/`)).body.read_by.sort()).toEqual([a.id, b.id].sort());

    // Nothing new: marked_count 0, with an empty object body this time.
    const again = await b.client.post(`${API}/chats/${g.id}/mark-as-read/`, {});
    expectStatus(again, 200);
    expect(again.body).toEqual({ status: 'success', marked_count: 0 });
  });

  it('works with no body, with {} and with message_id (read up to that message)', async () => {
    const a = await newUser(s, 'mba');
    const b = await newUser(s, 'mbb');
    const g = await createGroup(a, [b], 'Bodies');
    const m1 = await send(a, g.id, '1');
    await send(a, g.id, '2');
    await send(a, g.id, '3');
    const upTo = await b.client.post(`${API}/chats/${g.id}/mark-as-read/`, { message_id: m1.id });
    expect(upTo.body).toEqual({ status: 'success', marked_count: 1 });
    const unread = (await b.client.get(`${API}/chats/`)).body.results.find((x: any) => x.id === g.id).unread_count;
    expect(unread).toBe(2);
    const empty = await b.client.post(`${API}/chats/${g.id}/mark-as-read/`, {});
    expect(empty.body).toEqual({ status: 'success', marked_count: 2 });
    await send(a, g.id, '4');
    const none = await b.client.request('POST', `${API}/chats/${g.id}/mark-as-read/`, undefined, {});
    expect(none.body).toEqual({ status: 'success', marked_count: 1 });
    await send(a, g.id, '5');
    const emptyJson = await b.client.post(`${API}/chats/${g.id}/mark-as-read/`, '', { 'content-type': 'application/json' });
    expectStatus(emptyJson, 200);
    expect(emptyJson.body).toEqual({ status: 'success', marked_count: 1 });
  });

  it('validates message_id', async () => {
    const a = await newUser(s, 'mva');
    const g = await createGroup(a, [], 'V');
    const other = await createGroup(a, [], 'W');
    const foreign = await send(a, other.id, 'x');
    expectInvalid(await a.client.post(`${API}/chats/${g.id}/mark-as-read/`, { message_id: foreign.id }), 'message_id');
    expectInvalid(await a.client.post(`${API}/chats/${g.id}/mark-as-read/`, { message_id: 'x' }), 'message_id');
    expectInvalid(await a.client.post(`${API}/chats/${g.id}/mark-as-read/`, { everything: true }), 'everything');
  });
});

describe('POST /chats/{id}/typing/', () => {
  it('answers 200 with and without a body', async () => {
    const a = await newUser(s, 'ty');
    const b = await newUser(s, 'tyb');
    const dm = await createChat(a, { chat_type: 'dm', member_ids: [b.id] });
    const r = await a.client.post(`${API}/chats/${dm.id}/typing/`, { is_typing: true });
    expectStatus(r, 200);
    expect(r.body).toEqual({ status: 'success' });
    expectStatus(await a.client.post(`${API}/chats/${dm.id}/typing/`, { is_typing: false }), 200);
    expectStatus(await b.client.post(`${API}/chats/${dm.id}/typing/`), 200);
    expectInvalid(await a.client.post(`${API}/chats/${dm.id}/typing/`, { is_typing: 'yes' }), 'is_typing');
  });
});
