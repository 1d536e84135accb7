import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Client, type TestServer, type TestUser, startServer } from './harness.js';

/**
 * The chat list's `last_message` says enough to preview a message without text (files only,
 * or forwarded): how many files, the first one's name and kind, and where it was forwarded from.
 */

let s: TestServer;
let alice: TestUser;
let bob: TestUser;
let png: Buffer;

async function upload(client: Client, bytes: Buffer | string, name: string, type: string) {
  const form = new FormData();
  form.append('file', new Blob([bytes], { type }), name);
  const r = await fetch(`${client.base}/messages/api/uploads/`, {
    method: 'POST',
    headers: client.token ? { authorization: `Token ${client.token}` } : {},
    body: form,
  });
  expect(r.status).toBe(201);
  return (await r.json()) as { id: number };
}

const lastOf = async (u: TestUser, chatId: number) => {
  const r = await u.client.get('/messages/api/chats/');
  expect(r.status).toBe(200);
  return r.body.results.find((c: { id: number }) => c.id === chatId)?.last_message;
};

beforeAll(async () => {
  s = await startServer({ uploads: { allowedTypes: ['image/*', 'text/plain'] } });
  [alice, bob] = await Promise.all([s.user('alice'), s.user('bob')]);
  png = await sharp({ create: { width: 32, height: 24, channels: 3, background: { r: 10, g: 120, b: 200 } } }).png().toBuffer();
});

afterAll(async () => {
  await s?.close();
});

describe('chat list last_message of messages without text', () => {
  it('a files-only message carries its file count and first file in the other member\'s list', async () => {
    const chat = (await alice.client.post('/messages/api/chats/', { chat_type: 'group', title: 'Files', member_ids: [bob.id] })).body.id;
    const photo = await upload(alice.client, png, 'photo.png', 'image/png');
    const notes = await upload(alice.client, 'hello', 'notes.txt', 'text/plain');
    const sent = await alice.client.post(`/messages/api/chats/${chat}/messages/`, { content: '', attachment_ids: [photo.id, notes.id] });
    expect(sent.status).toBe(201);

    expect(await lastOf(bob, chat)).toMatchObject({
      id: sent.body.id,
      content: '',
      attachments_count: 2,
      first_attachment: { name: 'photo.png', media_type: 'image' },
      forwarded_from_id: null,
    });
    // No URLs in a preview: it links nowhere, and signed URLs would expire in a cached list.
    expect(Object.keys((await lastOf(bob, chat)).first_attachment).sort()).toEqual(['media_type', 'name']);
  });

  it('a text message has no files, a forwarded one says where it came from', async () => {
    const chat = (await alice.client.post('/messages/api/chats/', { chat_type: 'group', title: 'Text', member_ids: [bob.id] })).body.id;
    const other = (await bob.client.post('/messages/api/chats/', { chat_type: 'group', title: 'Other', member_ids: [alice.id] })).body.id;
    const text = (await alice.client.post(`/messages/api/chats/${chat}/messages/`, { content: 'plain' })).body;
    expect(await lastOf(bob, chat)).toMatchObject({ id: text.id, content: 'plain', attachments_count: 0, first_attachment: null, forwarded_from_id: null });

    const file = await upload(alice.client, 'x', 'report.txt', 'text/plain');
    const withFile = (await alice.client.post(`/messages/api/chats/${chat}/messages/`, { content: '', attachment_ids: [file.id] })).body;
    const fwd = await bob.client.post(`/messages/api/chats/${other}/messages/`, { forwarded_from_id: withFile.id });
    expect(fwd.status).toBe(201);
    expect(await lastOf(alice, other)).toMatchObject({
      id: fwd.body.id,
      attachments_count: 1,
      first_attachment: { name: 'report.txt', media_type: 'file' },
      forwarded_from_id: withFile.id,
    });
  });
});
