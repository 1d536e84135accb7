import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Readable } from 'node:stream';
import { ConfigError, type FileStorage, FileTooLargeError, createParley } from '../../src/index.js';
import { type Client, type TestServer, type TestUser, startParley, startServer } from './harness.js';
import { type Peer, connect, manualClock } from './messaging-client.js';

const MAX_BYTES = 256 * 1024;
const clock = manualClock('2031-03-01T12:00:00.000Z');
let s: TestServer;
let alice: TestUser;
let bob: TestUser;
let carol: TestUser;
/** alice + bob */
let chat: number;
/** carol alone */
let carolChat: number;
let png: Buffer;
/** A message in carol's chat, which alice and bob cannot see. */
let secret: number;

/** Every file under the server's uploads directory (temp files included). */
function filesOnDisk(server: TestServer): string[] {
  const root = join(server.app.config.dataDir, 'uploads');
  if (!existsSync(root)) return [];
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

async function upload(client: Client, bytes: Buffer | string, name: string, type = 'application/octet-stream', field = 'file') {
  const form = new FormData();
  form.append(field, new Blob([bytes], { type }), name);
  const r = await fetch(`${client.base}/messages/api/uploads/`, {
    method: 'POST',
    headers: client.token ? { authorization: `Token ${client.token}` } : {},
    body: form,
  });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : null, headers: r.headers };
}

/** GET a file URL (signed or not) with optional credentials; the body as bytes. */
async function fetchFile(server: TestServer, url: string, token?: string, headers: Record<string, string> = {}) {
  const r = await fetch(server.url + url, { headers: { ...headers, ...(token ? { authorization: `Token ${token}` } : {}) } });
  return { status: r.status, headers: r.headers, bytes: Buffer.from(await r.arrayBuffer()) };
}

const send = (u: TestUser, chatId: number, body: Record<string, unknown>) => u.client.post(`/messages/api/chats/${chatId}/messages/`, body);

beforeAll(async () => {
  s = await startServer({ uploads: { maxBytes: MAX_BYTES, allowedTypes: ['image/*', 'application/pdf', 'text/plain'] } }, { now: clock.now });
  [alice, bob, carol] = await Promise.all([s.user('alice'), s.user('bob'), s.user('carol')]);
  chat = (await alice.client.post('/messages/api/chats/', { chat_type: 'group', title: 'Pets', member_ids: [bob.id] })).body.id;
  carolChat = (await carol.client.post('/messages/api/chats/', { chat_type: 'group', title: 'Secret', member_ids: [] })).body.id;
  png = await sharp({ create: { width: 640, height: 480, channels: 3, background: { r: 200, g: 80, b: 20 } } }).png().toBuffer();
});

afterAll(async () => {
  await s?.close();
});

describe('uploads', () => {
  it('stores a png with its dimensions and a thumbnail, served inline to a signed URL', async () => {
    const r = await upload(alice.client, png, 'cat.png', 'image/png');
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ name: 'cat.png', size: png.length, mime_type: 'image/png', media_type: 'image', width: 640, height: 480 });
    expect(r.body.url).toMatch(/^\/messages\/api\/files\/\d+\/\?exp=\d+&sig=/);
    expect(r.body.thumbnail_url).toContain('thumb=1');

    const file = await fetchFile(s, r.body.url);
    expect(file.status).toBe(200);
    expect(file.bytes.equals(png)).toBe(true);
    expect(file.headers.get('content-type')).toBe('image/png');
    expect(file.headers.get('x-content-type-options')).toBe('nosniff');
    expect(file.headers.get('content-disposition')).toMatch(/^inline; filename="cat.png"/);
    expect(file.headers.get('cache-control')).toContain('private');

    const thumb = await fetchFile(s, r.body.thumbnail_url);
    expect(thumb.status).toBe(200);
    expect(thumb.headers.get('content-type')).toBe('image/webp');
    const meta = await sharp(thumb.bytes).metadata();
    expect(Math.max(meta.width ?? 0, meta.height ?? 0)).toBe(320);

    const range = await fetchFile(s, r.body.url, undefined, { range: 'bytes=0-7' });
    expect(range.status).toBe(206);
    expect(range.bytes.equals(png.subarray(0, 8))).toBe(true);
  });

  it('refuses a file over uploads.maxBytes with 413 and keeps nothing', async () => {
    const before = filesOnDisk(s).length;
    const usage = await s.app.core.attachments.usage();
    const r = await upload(alice.client, Buffer.alloc(MAX_BYTES + 1, 7), 'big.png', 'image/png');
    expect(r.status).toBe(413);
    expect(r.body.detail).toContain('256 KiB');
    expect(filesOnDisk(s).length).toBe(before);
    expect(await s.app.core.attachments.usage()).toEqual(usage);
  });

  it('refuses a type that is not allowed (decided from the bytes) with 415 and keeps nothing', async () => {
    const before = filesOnDisk(s).length;
    const zip = Buffer.concat([Buffer.from('PK\x03\x04', 'binary'), Buffer.alloc(200, 0)]);
    const r = await upload(alice.client, zip, 'notes.txt', 'text/plain');
    expect(r.status).toBe(415);
    expect(r.body.detail).toMatch(/not allowed/);
    expect(filesOnDisk(s).length).toBe(before);
  });

  it('sees through a .png that is HTML (415), and never serves markup inline', async () => {
    const r = await upload(alice.client, '<!DOCTYPE html><html><script>alert(1)</script></html>', 'evil.png', 'image/png');
    expect(r.status).toBe(415);
    expect(r.body.detail).toContain('text/html');

    // SVG is an allowed image/* type here: kept as a download, never inline, sandboxed.
    const svg = await upload(alice.client, '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', 'logo.svg', 'image/svg+xml');
    expect(svg.status).toBe(201);
    expect(svg.body).toMatchObject({ mime_type: 'image/svg+xml', media_type: 'file', width: null, thumbnail_url: null });
    const file = await fetchFile(s, svg.body.url);
    expect(file.headers.get('content-disposition')).toMatch(/^attachment; filename="logo.svg"/);
    expect(file.headers.get('content-security-policy')).toContain('sandbox');
  });

  it('needs a file part named "file" (400) and credentials (401)', async () => {
    const none = await upload(alice.client, 'hello', 'a.txt', 'text/plain', 'other');
    expect(none.status).toBe(400);
    expect(none.body.error).toBeDefined();
    expect(none.body.details.file).toBeDefined();
    const json = await alice.client.post('/messages/api/uploads/', { file: 'x' });
    expect(json.status).toBe(400);
    expect((await upload(s.anon, 'hello', 'a.txt')).status).toBe(401);
  });

  it('encodes non-ASCII names (RFC 5987) in the disposition of downloads', async () => {
    const r = await upload(alice.client, 'plain text\n', 'résumé "final".txt', 'text/plain');
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ mime_type: 'text/plain', media_type: 'file' });
    const file = await fetchFile(s, r.body.url);
    expect(file.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(file.headers.get('content-disposition')).toBe(
      `attachment; filename="r_sum_ _final_.txt"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%22final%22.txt`,
    );
  });
});

describe('attachments on messages', () => {
  it('sends a media-only message; members read the file, outsiders get 404, signed URLs expire', async () => {
    const up = (await upload(alice.client, png, 'cat.png', 'image/png')).body;
    const sent = await send(alice, chat, { content: '', attachment_ids: [up.id] });
    expect(sent.status).toBe(201);
    expect(sent.body.content).toBe('');
    expect(sent.body.attachments).toHaveLength(1);
    expect(sent.body.attachments[0]).toMatchObject({ id: up.id, name: 'cat.png', media_type: 'image', width: 640, height: 480 });

    // History shows it to bob, with a URL that works without credentials.
    const page = await bob.client.get(`/messages/api/chats/${chat}/messages/`);
    const listed = page.body.results.find((m: { id: number }) => m.id === sent.body.id);
    expect((await fetchFile(s, listed.attachments[0].url)).status).toBe(200);

    const plain = `/messages/api/files/${up.id}/`;
    expect((await fetchFile(s, plain, bob.token)).status).toBe(200);
    expect((await fetchFile(s, plain, carol.token)).status).toBe(404);
    expect((await fetchFile(s, plain)).status).toBe(404);
    const forged = listed.attachments[0].url.replace(/sig=[^&]+/, 'sig=AAAA');
    expect((await fetchFile(s, forged)).status).toBe(404);

    clock.advance(301_000);
    const expired = await fetchFile(s, listed.attachments[0].url);
    expect(expired.status).toBe(403);
    expect(JSON.parse(expired.bytes.toString()).detail).toMatch(/expired/);
    // A member still reads it with credentials, and a refetched message has fresh URLs.
    const again = await bob.client.get(`/messages/api/messages/${sent.body.id}/`);
    expect((await fetchFile(s, again.body.attachments[0].url)).status).toBe(200);
  });

  it('a retried client_id with attachments answers the original message', async () => {
    const up = (await upload(alice.client, 'retry\n', 'r.txt', 'text/plain')).body;
    const first = await send(alice, chat, { content: 'once', client_id: 'with-file', attachment_ids: [up.id] });
    expect(first.status).toBe(201);
    const again = await send(alice, chat, { content: 'once', client_id: 'with-file', attachment_ids: [up.id] });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ id: first.body.id, attachments: [{ id: up.id }] });
  });

  it('attaches only your own, unattached uploads', async () => {
    const mine = (await upload(alice.client, 'a\n', 'a.txt', 'text/plain')).body;
    const r = await send(bob, chat, { content: 'stolen', attachment_ids: [mine.id] });
    expect(r.status).toBe(400);
    expect(r.body.details.attachment_ids).toBeDefined();
    expect((await send(alice, chat, { content: 'ok', attachment_ids: [mine.id] })).status).toBe(201);
    expect((await send(alice, chat, { content: 'again', attachment_ids: [mine.id] })).status).toBe(400);
    expect((await send(alice, chat, { content: '' })).status).toBe(400);
  });

  it('a message with attachments may be edited down to no text; one without may not', async () => {
    const up = (await upload(alice.client, 'edit me\n', 'e.txt', 'text/plain')).body;
    const withFile = (await send(alice, chat, { content: 'caption', attachment_ids: [up.id] })).body;
    const edited = await alice.client.patch(`/messages/api/messages/${withFile.id}/`, { content: '' });
    expect(edited.status).toBe(200);
    expect(edited.body).toMatchObject({ content: '', is_edited: true, attachments: [{ id: up.id }] });
    const plain = (await send(alice, chat, { content: 'text' })).body;
    expect((await alice.client.patch(`/messages/api/messages/${plain.id}/`, { content: '' })).status).toBe(400);
  });

  it('hard delete removes the files and thumbnails from storage', async () => {
    const up = (await upload(alice.client, png, 'gone.png', 'image/png')).body;
    const before = filesOnDisk(s).length;
    const sent = await send(alice, chat, { content: 'bye', attachment_ids: [up.id] });
    expect(filesOnDisk(s).length).toBe(before);
    expect((await alice.client.delete(`/messages/api/messages/${sent.body.id}/`)).status).toBe(204);
    expect(filesOnDisk(s).length).toBe(before - 2);
    expect((await fetchFile(s, `/messages/api/files/${up.id}/`, alice.token)).status).toBe(404);
  });

  it('deleting a chat removes the files of its messages', async () => {
    const room = (await alice.client.post('/messages/api/chats/', { chat_type: 'group', title: 'Tmp', member_ids: [] })).body.id;
    const up = (await upload(alice.client, 'tmp\n', 'tmp.txt', 'text/plain')).body;
    await send(alice, room, { content: 'x', attachment_ids: [up.id] });
    const before = filesOnDisk(s).length;
    expect((await alice.client.delete(`/messages/api/chats/${room}/`)).status).toBe(204);
    expect(filesOnDisk(s).length).toBe(before - 1);
  });

  it('sweeps uploads never attached after unattachedTtlHours', async () => {
    const up = (await upload(carol.client, 'later\n', 'later.txt', 'text/plain')).body;
    const before = await s.app.core.attachments.usage();
    expect(before.unattachedFiles).toBeGreaterThan(0);
    // Nothing is old enough yet.
    expect(await s.app.core.attachments.sweepUnattached()).toBe(0);
    clock.advance(25 * 3_600_000);
    expect(await s.app.core.attachments.sweepUnattached()).toBe(before.unattachedFiles);
    const after = await s.app.core.attachments.usage();
    expect(after).toMatchObject({ unattachedFiles: 0, unattachedBytes: 0, files: before.files - before.unattachedFiles });
    expect(filesOnDisk(s).some((f) => f.includes('.tmp-'))).toBe(false);
    expect((await fetchFile(s, `/messages/api/files/${up.id}/`, carol.token)).status).toBe(404);
    expect((await send(carol, carolChat, { content: 'x', attachment_ids: [up.id] })).status).toBe(400);
  });
});

describe('replies and forwards', () => {
  let original: { id: number; attachments: { id: number }[] };

  beforeAll(async () => {
    const up = (await upload(alice.client, png, 'orig.png', 'image/png')).body;
    original = (await send(alice, chat, { content: 'the original', attachment_ids: [up.id] })).body;
    secret = (await send(carol, carolChat, { content: 'carol only' })).body.id;
  });

  it('REST: a reply carries a quote of its parent; parent_message_id is an alias of parent_id', async () => {
    const r = await send(bob, chat, { content: 'a reply', parent_message_id: original.id });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({
      parent_id: original.id,
      parent_message_id: original.id,
      forwarded_from_id: null,
      parent: { id: original.id, sender: { id: alice.id, username: 'alice' }, content: 'the original', deleted: false },
    });
    expect((await send(bob, chat, { content: 'old name', parent_id: original.id })).body.parent_message_id).toBe(original.id);
  });

  it('REST: a forward copies content and files into another chat', async () => {
    const room = (await bob.client.post('/messages/api/chats/', { chat_type: 'group', title: 'Bob', member_ids: [] })).body.id;
    const r = await send(bob, room, { forwarded_from_id: original.id });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ content: 'the original', forwarded_from_id: original.id, parent: null });
    expect(r.body.attachments).toHaveLength(1);
    const copy = r.body.attachments[0];
    expect(copy.id).not.toBe(original.attachments[0]?.id);
    expect(copy).toMatchObject({ name: 'orig.png', width: 640, height: 480 });
    expect((await fetchFile(s, copy.url)).bytes.equals(png)).toBe(true);
    // Deleting the original leaves the forwarded copy intact.
    const withComment = await send(bob, room, { content: 'look', forwarded_from_id: original.id });
    expect(withComment.body.content).toBe('look');
  });

  it('REST: refuses reply+forward (400), a parent elsewhere (400), a forward you cannot see (404)', async () => {
    const both = await send(bob, chat, { content: 'x', parent_message_id: original.id, forwarded_from_id: original.id });
    expect(both.status).toBe(400);
    expect(both.body.details.forwarded_from_id).toBeDefined();
    expect((await send(alice, chat, { content: 'x', parent_message_id: secret })).status).toBe(400);
    expect((await send(alice, chat, { content: 'x', forwarded_from_id: secret })).status).toBe(404);
  });

  it('/api/dm/: attachments, replies, and the same rules', async () => {
    const up = (await upload(alice.client, 'dm file\n', 'dm.txt', 'text/plain')).body;
    const first = await alice.client.post(`/api/dm/send/${bob.id}/`, { content: '', attachment_ids: [up.id] });
    expect(first.status).toBe(201);
    expect(first.body.attachments[0]).toMatchObject({ id: up.id, name: 'dm.txt' });
    const reply = await bob.client.post(`/api/dm/send/${alice.id}/`, { content: 'got it', parent_message_id: first.body.id });
    expect(reply.status).toBe(201);
    expect(reply.body).toMatchObject({ parent_message_id: first.body.id, parent: { id: first.body.id, content: '' } });
    const both = await bob.client.post(`/api/dm/send/${alice.id}/`, { content: 'x', parent_message_id: first.body.id, forwarded_from_id: first.body.id });
    expect(both.status).toBe(400);
    expect((await bob.client.post(`/api/dm/send/${alice.id}/`, { content: 'x', parent_message_id: original.id })).status).toBe(400);
    expect((await bob.client.post(`/api/dm/send/${alice.id}/`, { content: 'x', forwarded_from_id: secret })).status).toBe(404);
    const page = await alice.client.get(`/api/dm/conversations/${bob.id}/`);
    expect(page.body.results.find((m: { id: number }) => m.id === first.body.id).attachments).toHaveLength(1);
  });
});

describe('/messages/ live frames (long-poll)', () => {
  it('new_message carries attachments and the quote; a replay later has freshly signed URLs', async () => {
    const head = (await bob.client.get('/messages/api/events/?timeout=0')).body.cursor as string;
    const up = (await upload(alice.client, png, 'live.png', 'image/png')).body;
    const parent = (await send(bob, chat, { content: 'parent here' })).body;
    const sent = (await send(alice, chat, { content: 'live', attachment_ids: [up.id], parent_message_id: parent.id })).body;
    await s.app.hub.flush();
    const poll = async () => {
      const r = await bob.client.get(`/messages/api/events/?cursor=${encodeURIComponent(head)}&timeout=0`);
      return r.body.events.find((e: { type: string; message?: { id: number } }) => e.type === 'new_message' && e.message?.id === sent.id);
    };
    const frame = await poll();
    expect(frame.message).toMatchObject({ parent_message_id: parent.id, forwarded_from_id: null, parent: { id: parent.id, content: 'parent here' } });
    expect(frame.message.attachments[0]).toMatchObject({ id: up.id, media_type: 'image', width: 640 });
    expect(frame.message.attachments[0]).not.toHaveProperty('stored');
    clock.advance(600_000);
    const later = await poll();
    expect(later.message.attachments[0].url).not.toBe(frame.message.attachments[0].url);
    expect((await fetchFile(s, later.message.attachments[0].url)).status).toBe(200);
  });
});

describe('/messaging/ media frames', () => {
  let a: Peer;
  let b: Peer;

  beforeAll(async () => {
    [a, b] = await Promise.all([connect(s, alice.token), connect(s, bob.token)]);
  });
  afterAll(() => {
    a?.close();
    b?.close();
  });

  it('extra_fields.media becomes attachments of message.dispatch; media-only messages need no content', async () => {
    const media = { media_url: 'https://cdn.example.com/p/sunset.jpg', media_type: 'image', file_size: 1234, mime_type: 'image/jpeg', metadata: { alt: 'Sunset' } };
    a.send('message.send', { room_id: chat, content: '', extra_fields: { media: [media] } });
    const f = await b.event('message.dispatch', (d) => d.attachments?.length === 1);
    expect(f.data.content).toBe('');
    expect(f.data.attachments[0]).toMatchObject({ media_url: media.media_url, media_type: 'image', file_size: 1234, mime_type: 'image/jpeg', metadata: { alt: 'Sunset' }, name: 'sunset.jpg' });
    await a.event('message.dispatch', (d) => d.id === f.data.id);
    // REST shows the same attachment, its URL the media URL.
    const rest = await bob.client.get(`/messages/api/messages/${f.data.id}/`);
    expect(rest.body.attachments[0]).toMatchObject({ url: media.media_url, media_type: 'image', thumbnail_url: null });
  });

  it('uploads attach by id, with signed media_url, and reply/forward rules hold (4005, 4003, 4004)', async () => {
    const up = (await upload(alice.client, png, 'ws.png', 'image/png')).body;
    a.send('message.send', { room_id: chat, content: 'pic', attachment_ids: [up.id] });
    const f = await b.event('message.dispatch', (d) => d.content === 'pic');
    expect(f.data.attachments[0]).toMatchObject({ id: up.id, media_type: 'image', width: 640, height: 480 });
    expect((await fetchFile(s, f.data.attachments[0].media_url)).status).toBe(200);
    await a.event('message.dispatch', (d) => d.id === f.data.id);

    expect((await a.fail('message.send', { room_id: chat, content: 'x', parent_message_id: f.data.id, forwarded_from_id: f.data.id })).code).toBe(4005);
    expect((await a.fail('message.send', { room_id: chat, content: 'x', extra_fields: { parent_message_id: f.data.id, forwarded_from_id: f.data.id } })).code).toBe(4005);
    expect((await a.fail('message.send', { room_id: chat, content: '' })).code).toBe(4003);
    expect((await a.fail('message.send', { room_id: chat, content: '', extra_fields: { media: [{ media_url: 'javascript:alert(1)' }] } })).code).toBe(4003);
    expect((await a.fail('message.send', { room_id: chat, content: 'x', forwarded_from_id: 999_999 })).code).toBe(4004);
    expect((await a.fail('message.send', { room_id: chat, content: 'x', forwarded_from_id: secret })).code).toBe(4004);
    expect((await a.fail('message.send', { room_id: chat, content: 'x', parent_message_id: secret })).code).toBe(4003);

    a.send('message.send', { room_id: chat, content: 'fwd', extra_fields: { forwarded_from_id: f.data.id } });
    const fwd = await b.event('message.dispatch', (d) => d.content === 'fwd');
    expect(fwd.data.forwarded_from_id).toBe(f.data.id);
    expect(fwd.data.attachments).toHaveLength(1);
    a.send('message.send', { room_id: chat, content: 're', parent_message_id: f.data.id });
    const re = await b.event('message.dispatch', (d) => d.content === 're');
    expect(re.data.parent).toMatchObject({ id: f.data.id, content: 'pic', deleted: false });
  });
});

describe('parley storage (CLI)', { timeout: 60_000 }, () => {
  it('reports files, bytes and unattached uploads, as text and --json', async () => {
    await upload(bob.client, 'never attached\n', 'loose.txt', 'text/plain');
    const usage = await s.app.core.attachments.usage();
    const env = { ...process.env, PARLEY_DATA_DIR: s.app.config.dataDir, DATABASE_URL: s.app.config.databaseUrl, PARLEY_CONFIG: '' };
    const cli = ['--import', 'tsx', 'src/cli/main.ts', 'storage'];
    const json = JSON.parse((await promisify(execFile)(process.execPath, [...cli, '--json'], { env })).stdout);
    expect(json).toEqual({
      files: usage.files,
      bytes: usage.bytes,
      unattached_files: usage.unattachedFiles,
      unattached_bytes: usage.unattachedBytes,
      stored_objects: filesOnDisk(s).length,
      stored_bytes: expect.any(Number),
    });
    expect(json.unattached_files).toBeGreaterThan(0);
    const text = (await promisify(execFile)(process.execPath, cli, { env })).stdout;
    expect(text).toContain(`Uploads:     ${usage.files} files`);
    expect(text).toMatch(/Unattached:  \d+ files/);
  });
});

describe('soft delete', () => {
  let soft: TestServer;
  beforeAll(async () => {
    soft = await startServer({ messageSoftDelete: true });
  });
  afterAll(async () => {
    await soft?.close();
  });

  it('hides the files of a soft-deleted message (404) but keeps them stored', async () => {
    const u = await soft.user('dora');
    const room = (await u.client.post('/messages/api/chats/', { chat_type: 'group', title: 'Soft', member_ids: [] })).body.id;
    const up = (await upload(u.client, png, 'soft.png', 'image/png')).body;
    const sent = (await u.client.post(`/messages/api/chats/${room}/messages/`, { content: 'soon gone', attachment_ids: [up.id] })).body;
    const url = sent.attachments[0].url;
    expect((await fetchFile(soft, url)).status).toBe(200);
    const onDisk = filesOnDisk(soft).length;
    expect((await u.client.delete(`/messages/api/messages/${sent.id}/`)).status).toBe(204);
    expect((await fetchFile(soft, url)).status).toBe(404);
    expect((await fetchFile(soft, `/messages/api/files/${up.id}/`, u.token)).status).toBe(404);
    expect(filesOnDisk(soft).length).toBe(onDisk);
    const page = await u.client.get(`/messages/api/chats/${room}/messages/`);
    expect(page.body.results.find((m: { id: number }) => m.id === sent.id)).toMatchObject({ is_deleted: true, attachments: [] });
  });
});

/** A storage that keeps files in memory: what an object-store adapter looks like to Parley. */
class MemoryStorage implements FileStorage {
  readonly files = new Map<string, Buffer>();
  async put(key: string, data: Readable, options: { maxBytes: number }): Promise<{ size: number }> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of data) {
      size += (c as Buffer).length;
      if (size > options.maxBytes) {
        data.destroy();
        throw new FileTooLargeError(options.maxBytes);
      }
      chunks.push(c as Buffer);
    }
    this.files.set(key, Buffer.concat(chunks));
    return { size };
  }
  async open(key: string, range?: { start: number; end: number }): Promise<Readable | null> {
    const b = this.files.get(key);
    if (!b) return null;
    return Readable.from([range ? b.subarray(range.start, range.end + 1) : b]);
  }
  async stat(key: string): Promise<{ size: number } | null> {
    const b = this.files.get(key);
    return b ? { size: b.length } : null;
  }
  async delete(key: string): Promise<boolean> {
    return this.files.delete(key);
  }
  async *list(): AsyncIterable<{ key: string; size: number }> {
    for (const [key, b] of this.files) yield { key, size: b.length };
  }
}

describe('createParley({ fileStorage, uploads })', () => {
  it('stores uploads in the given FileStorage, and removes them with their message', async () => {
    const storage = new MemoryStorage();
    const p = await startParley({ fileStorage: storage, uploads: { maxBytes: 100_000 } });
    try {
      const u = await p.user('erin');
      const room = (await u.client.post('/messages/api/chats/', { chat_type: 'group', title: 'Mem', member_ids: [] })).body.id;
      const up = await upload(u.client, png, 'mem.png', 'image/png');
      expect(up.status).toBe(201);
      expect(storage.files.size).toBe(2); // the file and its thumbnail
      const sent = (await u.client.post(`/messages/api/chats/${room}/messages/`, { content: '', attachment_ids: [up.body.id] })).body;
      const r = await fetch(p.url + sent.attachments[0].url);
      expect(Buffer.from(await r.arrayBuffer()).equals(png)).toBe(true);
      expect((await upload(u.client, Buffer.alloc(100_001), 'x.bin')).status).toBe(413);
      expect(storage.files.size).toBe(2);
      expect((await u.client.delete(`/messages/api/messages/${sent.id}/`)).status).toBe(204);
      expect(storage.files.size).toBe(0);
    } finally {
      await p.close();
    }
  });

  it('validates the uploads settings with one clear line each', async () => {
    const bad = createParley({ uploads: { maxBytes: 0, allowedTypes: ['images'], urlTtlSeconds: -1 } as never, logLevel: 'silent' });
    await expect(bad).rejects.toBeInstanceOf(ConfigError);
    const message = await bad.catch((e: Error) => e.message);
    expect(message).toMatch(/uploads\.maxBytes/);
    expect(message).toMatch(/uploads\.allowedTypes\.0/);
    expect(message).toMatch(/uploads\.urlTtlSeconds/);
  });
});
