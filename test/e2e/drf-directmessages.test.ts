import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Res, type TestServer, type TestUser, startServer } from './harness.js';

/**
 * drf-directmessages' own test suite (`tests/test_directmessages.py`, garrethcain/drf-directmessages),
 * translated case by case to black-box tests against a running Parley: one test per package
 * test function, named `test_directmessages::<Class>::<function>`, assertions unchanged in
 * meaning. Its URLs live under `/api/dm/`; fixtures are built through the API.
 *
 * The package's `APIClient.post` sends multipart forms, so every case runs with multipart
 * bodies and again with JSON bodies. Service calls (`Inbox.*`) become the HTTP call a client
 * makes for the same thing:
 * - `send_message(a, b, text)` → `POST /api/dm/send/<b>/` as a (the service's `200` is the view's `201`);
 * - `get_unread_messages(u).count()` → `GET /api/dm/unread/` `count`;
 * - `get_conversations(u)` → `GET /api/dm/conversations/` partner ids;
 * - `get_conversation(u, v)` → `GET /api/dm/conversations/<v>/` (marks read, as the view does),
 *   or, where the case checks that it does NOT mark read, the history of `/messages/api/`,
 *   which reads without marking;
 * - `read_message(id)` / `read_message_formatted(id)` → `GET /messages/api/messages/<id>/` and
 *   `POST /messages/api/chats/<chat>/mark-as-read/ {"message_id": id}` (a missing message: 404 for None);
 * - `override_settings(DIRECTMESSAGES_ALLOWED_RECIPIENTS=…)` → a server started with `allowedRecipients`.
 */

type Encoding = 'multipart' | 'json';

let s: TestServer;
/** `allowedRecipients: []`, and `[1]` (the first user registered on it is the support user). */
let emptyList: TestServer;
let restricted: TestServer;
let support: TestUser;
let customer: TestUser;
let other: TestUser;

beforeAll(async () => {
  [s, emptyList, restricted] = await Promise.all([startServer(), startServer({ allowedRecipients: [] }), startServer({ allowedRecipients: [1] })]);
  support = await restricted.user('support');
  expect(support.id).toBe(1);
  [customer, other] = await Promise.all([restricted.user('customer'), restricted.user('other')]);
});
afterAll(async () => {
  await Promise.all([s?.close(), emptyList?.close(), restricted?.close()]);
});

let seq = 0;
/** `create_user(username)`: a fresh user (names are unique per server, so each gets a suffix). */
const createUser = (server: TestServer, username: string, email?: string): Promise<TestUser> =>
  server.user(`${username}-${++seq}`, { email: email ?? `${username}-${seq}@tests.com` });

/** A request as the package's `APIClient` makes it: `client` null is `APIClient()` without credentials. */
async function call(server: TestServer, client: TestUser | null, method: string, path: string, data?: Record<string, string>, enc: Encoding = 'multipart'): Promise<Res> {
  const headers: Record<string, string> = {};
  if (client) headers.authorization = `Token ${client.token}`;
  let body: FormData | string | undefined;
  if (data !== undefined) {
    if (enc === 'json') {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(data);
    } else {
      const form = new FormData();
      for (const [k, v] of Object.entries(data)) form.append(k, v);
      body = form;
    }
  }
  const url = path.startsWith('http') ? path : `${server.url}/api/dm${path}`;
  const r = await fetch(url, { method, headers, body });
  const text = await r.text();
  const json = (r.headers.get('content-type') ?? '').includes('json') && text !== '';
  return { status: r.status, body: json ? JSON.parse(text) : text, headers: r.headers, text };
}

/** `Inbox.send_message(from, to, text)`: the sent message. */
async function sendMessage(from: TestUser, to: TestUser, text: string, server: TestServer = s): Promise<{ id: number; content: string }> {
  const r = await call(server, from, 'POST', `/send/${to.id}/`, { content: text });
  expect(r.status, r.text).toBe(201);
  return r.body;
}

/** `Inbox.get_unread_messages(user).count()`. */
async function unreadCount(user: TestUser): Promise<number> {
  const r = await call(s, user, 'GET', '/unread/');
  expect(r.status).toBe(200);
  return r.body.count;
}

/** `Inbox.get_conversations(user)`: partner ids. */
async function conversations(user: TestUser): Promise<number[]> {
  const r = await call(s, user, 'GET', '/conversations/');
  expect(r.status).toBe(200);
  return r.body.results.map((p: { id: number }) => p.id);
}

/** `Inbox.get_conversation(user, partner)` through the view: the messages `user` sees. */
async function conversation(user: TestUser, partner: TestUser): Promise<{ id: number; content: string }[]> {
  const r = await call(s, user, 'GET', `/conversations/${partner.id}/`);
  expect(r.status).toBe(200);
  return r.body.results;
}

/** `Inbox.get_conversation(u1, u2)` without marking read: `/messages/api/` history, oldest first, with its total. */
async function conversationUnmarked(user: TestUser, anyMessageId: number): Promise<{ count: number; results: { content: string }[] }> {
  const detail = await user.client.get(`/messages/api/messages/${anyMessageId}/`);
  expect(detail.status).toBe(200);
  const r = await user.client.get(`/messages/api/chats/${detail.body.chat}/messages/`);
  expect(r.status).toBe(200);
  return r.body;
}

/** `Inbox.read_message(id)`: the content (marking it read), or null when there is no such message. */
async function readMessage(user: TestUser, id: number): Promise<{ content: string; sender: { username: string } } | null> {
  const detail = await user.client.get(`/messages/api/messages/${id}/`);
  if (detail.status === 404) return null;
  expect(detail.status).toBe(200);
  const marked = await user.client.post(`/messages/api/chats/${detail.body.chat}/mark-as-read/`, { message_id: id });
  expect(marked.status).toBe(200);
  return detail.body;
}

describe.each<Encoding>(['multipart', 'json'])('%s bodies', (enc) => {
  const post = (client: TestUser | null, path: string, data: Record<string, string>, server: TestServer = s) => call(server, client, 'POST', path, data, enc);

  describe('MessageSendTestCase', () => {
    let u1: TestUser;
    let u2: TestUser;
    beforeAll(async () => {
      [u1, u2] = await Promise.all([createUser(s, 'user1', undefined), createUser(s, 'user2', undefined)]);
    });

    it('test_directmessages::MessageSendTestCase::test_send_message', async () => {
      const init = (await conversation(u1, u2)).length;
      const r = await post(u1, `/send/${u2.id}/`, { content: 'This is a message' });
      const after = (await conversation(u1, u2)).length;
      expect(init + 1).toBe(after);
      expect(r.status).toBe(201);
      expect(r.body.content).toBe('This is a message');
    });

    it('test_directmessages::MessageSendTestCase::test_send_message_to_self_raises', async () => {
      const r = await post(u1, `/send/${u1.id}/`, { content: 'Talking to myself' });
      expect(r.status).toBe(400);
      expect(r.body).toEqual({ detail: '["You can\'t send messages to yourself."]' });
    });

    it('test_directmessages::MessageSendTestCase::test_read_nonexistent_message_returns_none', async () => {
      expect(await readMessage(u1, 99999)).toBeNull();
    });

    it('test_directmessages::MessageSendTestCase::test_read_formatted_nonexistent_message_returns_none', async () => {
      expect(await readMessage(u1, 99999)).toBeNull();
    });
  });

  describe('MessageReadingTestCase', () => {
    let u1: TestUser;
    let u2: TestUser;
    beforeAll(async () => {
      [u1, u2] = await Promise.all([createUser(s, 'user1'), createUser(s, 'user2')]);
    });

    it('test_directmessages::MessageReadingTestCase::test_unread_messages', async () => {
      const [a, b] = await Promise.all([createUser(s, 'user1'), createUser(s, 'user2')]);
      await sendMessage(a, b, 'This is a message');
      expect(await unreadCount(a)).toBe(0);
      expect(await unreadCount(b)).toBe(1);
    });

    it('test_directmessages::MessageReadingTestCase::test_reading_messages', async () => {
      const msg = await sendMessage(u2, u1, 'This is another message');
      expect(await unreadCount(u1)).toBe(1);
      const read = await readMessage(u1, msg.id);
      expect(read?.content).toBe('This is another message');
      expect(await unreadCount(u1)).toBe(0);
    });

    it('test_directmessages::MessageReadingTestCase::test_reading_formatted', async () => {
      const msg = await sendMessage(u2, u1, 'This is just another message');
      expect(await unreadCount(u1)).toBe(1);
      const read = await readMessage(u1, msg.id);
      // Parley shows no email in a message: the sender is named by username.
      expect(read && `${read.sender.username}: ${read.content}`).toBe(`${u2.username}: This is just another message`);
      expect(await unreadCount(u1)).toBe(0);
    });
  });

  describe('ConversationTestCase', () => {
    let u1: TestUser;
    let u2: TestUser;
    let u3: TestUser;
    let u4: TestUser;
    let first: { id: number };
    beforeAll(async () => {
      [u1, u2, u3, u4] = await Promise.all([createUser(s, 'user1'), createUser(s, 'admin'), createUser(s, 'postman'), createUser(s, 'chef')]);
      first = await sendMessage(u1, u2, 'This is a message to User 2');
      await sendMessage(u1, u3, 'This is a message to User 3');
      await sendMessage(u1, u4, 'This is a message to User 4');
      await sendMessage(u2, u1, 'This is a message to User 1');
      await sendMessage(u2, u3, 'This is a message to User 3');
      await sendMessage(u2, u4, 'This is a message to User 4');
      await sendMessage(u1, u2, 'Hey, thanks for sending this message back');
      await sendMessage(u2, u1, 'No problem');
    });

    it('test_directmessages::ConversationTestCase::test_all_conversations', async () => {
      const partners = await conversations(u1);
      expect(partners).toHaveLength(3);
      expect(partners).toContain(u2.id);
      expect(partners).toContain(u3.id);
      expect(partners).toContain(u4.id);
      expect(partners).not.toContain(u1.id);
    });

    it('test_directmessages::ConversationTestCase::test_single_conversation', async () => {
      // Per-message read state: u1's reply did not mark "This is a message to User 1" read.
      expect(await unreadCount(u1)).toBe(2);

      const all = await conversationUnmarked(u1, first.id);
      expect(await unreadCount(u1)).toBe(2);
      expect(all.count).toBe(4);

      const limited = all.results.slice(-2).reverse();
      expect(limited).toHaveLength(2);

      expect(all.results[0]?.content).toBe('This is a message to User 2');
      expect(all.results[all.results.length - 1]?.content).toBe('No problem');
      expect(limited[0]?.content).toBe('No problem');
      expect(limited[limited.length - 1]?.content).toBe('Hey, thanks for sending this message back');
    });
  });

  describe('UnreadMessagesAPIViewTestCase', () => {
    let user: TestUser;
    beforeAll(async () => {
      [user] = await Promise.all([createUser(s, 'auth_user', 'auth@tests.com'), createUser(s, 'other_user', 'other@tests.com')]);
    });

    it('test_directmessages::UnreadMessagesAPIViewTestCase::test_unread_count_zero', async () => {
      const r = await call(s, user, 'GET', '/unread/');
      expect(r.status).toBe(200);
      expect(r.body.count).toBe(0);
    });

    it('test_directmessages::UnreadMessagesAPIViewTestCase::test_unread_count_after_message', async () => {
      const [me, them] = await Promise.all([createUser(s, 'auth_user'), createUser(s, 'other_user')]);
      await sendMessage(them, me, 'Hello');
      const r = await call(s, me, 'GET', '/unread/');
      expect(r.status).toBe(200);
      expect(r.body.count).toBe(1);
    });

    it('test_directmessages::UnreadMessagesAPIViewTestCase::test_unread_requires_auth', async () => {
      const r = await call(s, null, 'GET', '/unread/');
      expect(r.status).toBe(403);
    });
  });

  describe('ConversationListAPIViewTestCase', () => {
    let user: TestUser;
    let friend: TestUser;
    beforeAll(async () => {
      [user, friend] = await Promise.all([createUser(s, 'auth_user'), createUser(s, 'friend'), createUser(s, 'stranger')]);
    });

    it('test_directmessages::ConversationListAPIViewTestCase::test_empty_conversations', async () => {
      const r = await call(s, user, 'GET', '/conversations/');
      expect(r.status).toBe(200);
      expect(r.body.results).toHaveLength(0);
    });

    it('test_directmessages::ConversationListAPIViewTestCase::test_conversations_returns_partners', async () => {
      await sendMessage(user, friend, 'Hi friend');
      const r = await call(s, user, 'GET', '/conversations/');
      expect(r.status).toBe(200);
      expect(r.body.results).toHaveLength(1);
      expect(r.body.results[0].id).toBe(friend.id);
    });

    it('test_directmessages::ConversationListAPIViewTestCase::test_conversations_excludes_self', async () => {
      expect(await conversations(user)).not.toContain(user.id);
    });

    it('test_directmessages::ConversationListAPIViewTestCase::test_conversations_requires_auth', async () => {
      const r = await call(s, null, 'GET', '/conversations/');
      expect(r.status).toBe(403);
    });
  });

  describe('MessageListAPIViewTestCase', () => {
    /** Each case has its own `setUp`: a fresh user and friend. */
    const setUp = () => Promise.all([createUser(s, 'auth_user'), createUser(s, 'friend')]);

    it('test_directmessages::MessageListAPIViewTestCase::test_get_conversation_messages', async () => {
      const [user, friend] = await setUp();
      await sendMessage(user, friend, 'Hi');
      await sendMessage(friend, user, 'Hello');
      const r = await call(s, user, 'GET', `/conversations/${friend.id}/`);
      expect(r.status).toBe(200);
      expect(r.body.results).toHaveLength(2);
    });

    it('test_directmessages::MessageListAPIViewTestCase::test_get_conversation_marks_inbound_as_read', async () => {
      const [user, friend] = await setUp();
      await sendMessage(friend, user, 'Unread msg');
      expect(await unreadCount(user)).toBe(1);
      await call(s, user, 'GET', `/conversations/${friend.id}/`);
      expect(await unreadCount(user)).toBe(0);
    });

    it('test_directmessages::MessageListAPIViewTestCase::test_get_conversation_does_not_mark_outbound_as_read', async () => {
      const [user, friend] = await setUp();
      await sendMessage(user, friend, 'My msg');
      expect(await unreadCount(friend)).toBe(1);
      await call(s, user, 'GET', `/conversations/${friend.id}/`);
      expect(await unreadCount(friend)).toBe(1);
    });

    it('test_directmessages::MessageListAPIViewTestCase::test_post_message_via_conversation', async () => {
      const [user, friend] = await setUp();
      const r = await post(user, `/conversations/${friend.id}/`, { content: 'New message' });
      expect(r.status).toBe(201);
      expect(await conversation(friend, user)).toHaveLength(1);
    });

    it('test_directmessages::MessageListAPIViewTestCase::test_post_message_empty_content_returns_400', async () => {
      const [user, friend] = await setUp();
      const r = await post(user, `/conversations/${friend.id}/`, { content: '' });
      expect(r.status).toBe(400);
    });

    it('test_directmessages::MessageListAPIViewTestCase::test_post_message_missing_content_returns_400', async () => {
      const [user, friend] = await setUp();
      const r = await post(user, `/conversations/${friend.id}/`, {});
      expect(r.status).toBe(400);
    });

    it('test_directmessages::MessageListAPIViewTestCase::test_conversation_with_nonexistent_user_returns_404', async () => {
      const [user] = await setUp();
      const r = await call(s, user, 'GET', '/conversations/99999/');
      expect(r.status).toBe(404);
    });

    it('test_directmessages::MessageListAPIViewTestCase::test_message_direction_incoming', async () => {
      const [user, friend] = await setUp();
      await sendMessage(friend, user, 'From friend');
      const r = await call(s, user, 'GET', `/conversations/${friend.id}/`);
      const inbound = r.body.results.filter((m: { direction: string }) => m.direction === 'in');
      expect(inbound).toHaveLength(1);
    });

    it('test_directmessages::MessageListAPIViewTestCase::test_message_direction_outgoing', async () => {
      const [user, friend] = await setUp();
      await sendMessage(user, friend, 'To friend');
      const r = await call(s, user, 'GET', `/conversations/${friend.id}/`);
      const outbound = r.body.results.filter((m: { direction: string }) => m.direction === 'out');
      expect(outbound).toHaveLength(1);
    });
  });

  describe('MessageSendAPIViewTestCase', () => {
    const setUp = () => Promise.all([createUser(s, 'auth_user'), createUser(s, 'friend')]);

    it('test_directmessages::MessageSendAPIViewTestCase::test_send_message_success', async () => {
      const [user, friend] = await setUp();
      const r = await post(user, `/send/${friend.id}/`, { content: 'Hello friend' });
      expect(r.status).toBe(201);
      expect(await conversation(friend, user)).toHaveLength(1);
      expect(r.body.content).toBe('Hello friend');
    });

    it('test_directmessages::MessageSendAPIViewTestCase::test_send_message_empty_content_returns_400', async () => {
      const [user, friend] = await setUp();
      const r = await post(user, `/send/${friend.id}/`, { content: '' });
      expect(r.status).toBe(400);
    });

    it('test_directmessages::MessageSendAPIViewTestCase::test_send_message_to_self_returns_400', async () => {
      const [user] = await setUp();
      const r = await post(user, `/send/${user.id}/`, { content: 'Talking to myself' });
      expect(r.status).toBe(400);
    });

    it('test_directmessages::MessageSendAPIViewTestCase::test_send_message_to_nonexistent_user_returns_404', async () => {
      const [user] = await setUp();
      const r = await post(user, '/send/99999/', { content: 'Hello nobody' });
      expect(r.status).toBe(404);
    });

    it('test_directmessages::MessageSendAPIViewTestCase::test_send_requires_auth', async () => {
      const [, friend] = await setUp();
      const r = await post(null, `/send/${friend.id}/`, { content: 'Hello' });
      expect(r.status).toBe(403);
    });
  });

  describe('SoftDeleteTestCase', () => {
    const setUp = () => Promise.all([createUser(s, 'deleter'), createUser(s, 'friend')]);
    const del = (client: TestUser | null, id: number | string) => call(s, client, 'DELETE', `/messages/${id}/`);

    it('test_directmessages::SoftDeleteTestCase::test_sender_deletes_hides_for_sender_only', async () => {
      const [user, friend] = await setUp();
      const msg = await sendMessage(user, friend, 'Oops');
      const r = await del(user, msg.id);
      expect(r.status).toBe(204);
      expect(await conversation(user, friend)).toHaveLength(0);
      expect(await conversation(friend, user)).toHaveLength(1);
    });

    it('test_directmessages::SoftDeleteTestCase::test_recipient_deletes_hides_for_recipient_only', async () => {
      const [user, friend] = await setUp();
      const msg = await sendMessage(friend, user, 'Hello');
      const r = await del(user, msg.id);
      expect(r.status).toBe(204);
      expect(await conversation(user, friend)).toHaveLength(0);
      expect(await conversation(friend, user)).toHaveLength(1);
    });

    it('test_directmessages::SoftDeleteTestCase::test_both_delete_fully_hides', async () => {
      const [user, friend] = await setUp();
      const msg = await sendMessage(user, friend, 'Bye');
      await del(user, msg.id);
      await del(friend, msg.id);
      expect(await conversation(user, friend)).toHaveLength(0);
      expect(await conversation(friend, user)).toHaveLength(0);
    });

    it('test_directmessages::SoftDeleteTestCase::test_delete_nonexistent_message_returns_404', async () => {
      const [user] = await setUp();
      const r = await del(user, 99999);
      expect(r.status).toBe(404);
      expect(r.body).toEqual({ detail: 'Message not found or not authorized.' });
    });

    it('test_directmessages::SoftDeleteTestCase::test_delete_requires_auth', async () => {
      const [user, friend] = await setUp();
      const msg = await sendMessage(user, friend, 'Secret');
      const r = await del(null, msg.id);
      expect(r.status).toBe(403);
    });

    it('test_directmessages::SoftDeleteTestCase::test_deleted_message_excluded_from_unread', async () => {
      const [user, friend] = await setUp();
      const msg = await sendMessage(friend, user, 'Unread');
      expect(await unreadCount(user)).toBe(1);
      await del(user, msg.id);
      expect(await unreadCount(user)).toBe(0);
    });

    it('test_directmessages::SoftDeleteTestCase::test_deleted_message_excluded_from_conversations', async () => {
      const [user, friend] = await setUp();
      const msg = await sendMessage(user, friend, 'Only message');
      await del(user, msg.id);
      expect(await conversations(user)).not.toContain(friend.id);
    });

    it('test_directmessages::SoftDeleteTestCase::test_double_delete_idempotent', async () => {
      const [user, friend] = await setUp();
      const msg = await sendMessage(user, friend, 'Test');
      await del(user, msg.id);
      const r = await del(user, msg.id);
      expect(r.status).toBe(204);
    });
  });

  describe('PaginationTestCase', () => {
    const setUp = () => Promise.all([createUser(s, 'pager'), createUser(s, 'pal')]);

    it('test_directmessages::PaginationTestCase::test_conversations_paginated_response_shape', async () => {
      const [user] = await setUp();
      const r = await call(s, user, 'GET', '/conversations/');
      expect(r.status).toBe(200);
      expect(r.body).toHaveProperty('results');
      expect(r.body).toHaveProperty('next');
      expect(r.body).toHaveProperty('previous');
    });

    it('test_directmessages::PaginationTestCase::test_messages_paginated_response_shape', async () => {
      const [user, friend] = await setUp();
      await sendMessage(user, friend, 'Hi');
      const r = await call(s, user, 'GET', `/conversations/${friend.id}/`);
      expect(r.status).toBe(200);
      expect(r.body).toHaveProperty('results');
      expect(r.body).toHaveProperty('next');
      expect(r.body).toHaveProperty('previous');
    });

    it('test_directmessages::PaginationTestCase::test_messages_pagination_cursor', async () => {
      const [user, friend] = await setUp();
      for (let i = 0; i < 55; i++) await sendMessage(user, friend, `Message ${i}`);
      const r = await call(s, user, 'GET', `/conversations/${friend.id}/`);
      expect(r.body.results).toHaveLength(50);
      expect(r.body.next).not.toBeNull();
      const r2 = await call(s, user, 'GET', r.body.next);
      expect(r2.body.results).toHaveLength(5);
      expect(r2.body.next).toBeNull();
    });
  });

  describe('ConversationUnreadAPITestCase', () => {
    const setUp = () => Promise.all([createUser(s, 'reader'), createUser(s, 'pal1'), createUser(s, 'pal2')]);
    const unreadList = (user: TestUser) => call(s, user, 'GET', '/conversations/unread/');

    it('test_directmessages::ConversationUnreadAPITestCase::test_no_conversations_returns_empty', async () => {
      const [user] = await setUp();
      const r = await unreadList(user);
      expect(r.status).toBe(200);
      expect(r.body).toEqual([]);
    });

    it('test_directmessages::ConversationUnreadAPITestCase::test_single_conversation_unread_count', async () => {
      const [user, friend1] = await setUp();
      await sendMessage(friend1, user, 'Hello');
      await sendMessage(friend1, user, 'Hello again');
      const r = await unreadList(user);
      expect(r.status).toBe(200);
      expect(r.body).toHaveLength(1);
      expect(r.body[0].partner_id).toBe(friend1.id);
      expect(r.body[0].unread_count).toBe(2);
    });

    it('test_directmessages::ConversationUnreadAPITestCase::test_multiple_conversations_unread_counts', async () => {
      const [user, friend1, friend2] = await setUp();
      await sendMessage(friend1, user, 'From pal1');
      await sendMessage(friend1, user, 'From pal1 again');
      await sendMessage(friend2, user, 'From pal2');
      const r = await unreadList(user);
      expect(r.status).toBe(200);
      expect(r.body).toHaveLength(2);
      const byId = Object.fromEntries(r.body.map((x: { partner_id: number; unread_count: number }) => [x.partner_id, x.unread_count]));
      expect(byId[friend1.id]).toBe(2);
      expect(byId[friend2.id]).toBe(1);
    });

    it('test_directmessages::ConversationUnreadAPITestCase::test_read_messages_excluded_from_count', async () => {
      const [user, friend1] = await setUp();
      const msg = await sendMessage(friend1, user, 'Read me');
      await readMessage(user, msg.id);
      await sendMessage(friend1, user, 'Unread');
      const r = await unreadList(user);
      expect(r.body).toHaveLength(1);
      expect(r.body[0].unread_count).toBe(1);
    });

    it('test_directmessages::ConversationUnreadAPITestCase::test_sent_messages_not_counted', async () => {
      const [user, friend1] = await setUp();
      await sendMessage(user, friend1, 'From me');
      const r = await unreadList(user);
      expect(r.body).toEqual([]);
    });

    it('test_directmessages::ConversationUnreadAPITestCase::test_unread_requires_auth', async () => {
      const r = await call(s, null, 'GET', '/conversations/unread/');
      expect(r.status).toBe(403);
    });
  });

  describe('RestrictRecipientTestCase', () => {
    it('test_directmessages::RestrictRecipientTestCase::test_no_setting_means_no_restriction', async () => {
      const [c, o] = await Promise.all([createUser(s, 'customer'), createUser(s, 'other')]);
      const r = await post(c, `/send/${o.id}/`, { content: 'Hi' });
      expect(r.status).toBe(201);
    });

    it('test_directmessages::RestrictRecipientTestCase::test_empty_list_means_no_restriction', async () => {
      const [c, o] = await Promise.all([createUser(emptyList, 'customer'), createUser(emptyList, 'other')]);
      const r = await post(c, `/send/${o.id}/`, { content: 'Hi' }, emptyList);
      expect(r.status).toBe(201);
    });

    it('test_directmessages::RestrictRecipientTestCase::test_user_can_message_allowed_recipient', async () => {
      const r = await post(customer, `/send/${support.id}/`, { content: 'Help!' }, restricted);
      expect(r.status).toBe(201);
    });

    it('test_directmessages::RestrictRecipientTestCase::test_user_cannot_message_non_allowed', async () => {
      const r = await post(customer, `/send/${other.id}/`, { content: 'Hi' }, restricted);
      expect(r.status).toBe(400);
      expect(r.body).toEqual({ detail: "['You are not allowed to message this user.']" });
    });

    it('test_directmessages::RestrictRecipientTestCase::test_allowed_user_can_message_anyone', async () => {
      expect((await post(support, `/send/${customer.id}/`, { content: 'Reply' }, restricted)).status).toBe(201);
      expect((await post(support, `/send/${other.id}/`, { content: 'Outreach' }, restricted)).status).toBe(201);
    });

    it('test_directmessages::RestrictRecipientTestCase::test_api_returns_400_for_restricted_recipient', async () => {
      await post(support, `/send/${customer.id}/`, { content: 'Hello customer' }, restricted);
      const r = await post(customer, `/send/${other.id}/`, { content: 'Hi' }, restricted);
      expect(r.status).toBe(400);
    });

    it('test_directmessages::RestrictRecipientTestCase::test_api_allows_message_to_allowed_recipient', async () => {
      const r = await post(customer, `/send/${support.id}/`, { content: 'Help me!' }, restricted);
      expect(r.status).toBe(201);
    });
  });
});
