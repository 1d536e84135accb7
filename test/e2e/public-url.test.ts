import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, type TestUser, startServer } from './harness.js';

/** Where the deployment says it is; the test server really listens on `s.url`. */
const PUBLIC = 'https://chat.example.com';
let s: TestServer;
let alice: TestUser;
let bob: TestUser;
let chat: number;
let png: Buffer;

/** The test server is not really at PUBLIC: fetch the same path from where it listens. */
function onTestServer(url: string): string {
  expect(url.startsWith(`${PUBLIC}/`)).toBe(true);
  return s.url + url.slice(PUBLIC.length);
}

async function upload(u: TestUser, bytes: Buffer, name: string, type: string) {
  const form = new FormData();
  form.append('file', new Blob([bytes], { type }), name);
  const r = await fetch(`${s.url}/messages/api/uploads/`, { method: 'POST', headers: { authorization: `Token ${u.token}` }, body: form });
  expect(r.status).toBe(201);
  return r.json() as Promise<{ id: number; url: string; thumbnail_url: string | null }>;
}

beforeAll(async () => {
  // The trailing slash is normalized away.
  s = await startServer({ publicUrl: `${PUBLIC}/`, chatsPerPage: 1 });
  [alice, bob] = await Promise.all([s.user('alice'), s.user('bob')]);
  chat = (await alice.client.post('/messages/api/chats/', { chat_type: 'group', title: 'Pets', member_ids: [bob.id] })).body.id;
  png = await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 20, g: 80, b: 200 } } }).png().toBuffer();
});

afterAll(async () => {
  await s?.close();
});

describe('publicUrl: every URL handed out is absolute on it', () => {
  it('upload and message file URLs point at the public URL, and download from there', async () => {
    const up = await upload(alice, png, 'blue.png', 'image/png');
    expect(up.url).toMatch(new RegExp(`^${PUBLIC}/messages/api/files/${up.id}/\\?exp=\\d+&sig=`));
    expect(up.thumbnail_url).toMatch(new RegExp(`^${PUBLIC}/messages/api/files/${up.id}/\\?.*thumb=1`));

    const sent = await alice.client.post(`/messages/api/chats/${chat}/messages/`, { content: 'look', attachment_ids: [up.id] });
    expect(sent.status).toBe(201);
    // What another member reads back, with a fresh signature.
    const history = await bob.client.get(`/messages/api/chats/${chat}/messages/`);
    const shown = history.body.results.find((m: { id: number }) => m.id === sent.body.id);
    const url: string = shown.attachments[0].url;
    expect(url.startsWith(`${PUBLIC}/messages/api/files/${up.id}/?`)).toBe(true);

    // Signed: no credentials needed, from any origin.
    const file = await fetch(onTestServer(url));
    expect(file.status).toBe(200);
    expect(Buffer.from(await file.arrayBuffer()).equals(png)).toBe(true);
    const thumb = await fetch(onTestServer(shown.attachments[0].thumbnail_url));
    expect(thumb.status).toBe(200);
    expect(thumb.headers.get('content-type')).toBe('image/webp');
  });

  it('default avatars are absolute, on every face, and are served there', async () => {
    const avatar = `${PUBLIC}/avatars/${alice.id}.svg`;
    expect((await alice.client.get('/auth/me')).body.avatar_url).toBe(avatar);
    const members = (await bob.client.get(`/messages/api/chats/${chat}/`)).body.members as { id: number; avatar_url: string }[];
    expect(members.find((m) => m.id === alice.id)?.avatar_url).toBe(avatar);
    await alice.client.post(`/messages/api/chats/${chat}/messages/`, { content: 'hi' });
    const history = await bob.client.get(`/messages/api/chats/${chat}/messages/`);
    expect(JSON.stringify(history.body)).toContain(`"avatar_url":"${avatar}"`);
    expect(JSON.stringify(history.body)).not.toContain('"avatar_url":"/');

    const svg = await fetch(onTestServer(avatar));
    expect(svg.status).toBe(200);
    expect(svg.headers.get('content-type')).toContain('image/svg+xml');
  });

  it('live events carry the absolute URLs too (long-poll)', async () => {
    const head = (await bob.client.get('/messages/api/events/')).body.cursor as string;
    const up = await upload(alice, png, 'again.png', 'image/png');
    await alice.client.post(`/messages/api/chats/${chat}/messages/`, { content: 'live', attachment_ids: [up.id] });
    const polled = await bob.client.get(`/messages/api/events/?cursor=${head}&timeout=10`);
    const frame = polled.body.events.find((e: { type: string }) => e.type === 'new_message');
    expect(frame.message.attachments[0].url.startsWith(`${PUBLIC}/messages/api/files/${up.id}/?`)).toBe(true);
    expect(frame.message.sender.avatar_url).toBe(`${PUBLIC}/avatars/${alice.id}.svg`);
    expect((await fetch(onTestServer(frame.message.attachments[0].url))).status).toBe(200);
  });

  it('pagination links are on the public URL', async () => {
    // chatsPerPage is 1 and alice is in two chats.
    await alice.client.post('/messages/api/chats/', { chat_type: 'group', title: 'Second', member_ids: [] });
    const page = await alice.client.get('/messages/api/chats/');
    expect(page.body.next).toBe(`${PUBLIC}/messages/api/chats/?page=2`);
    const second = await alice.client.get(onTestServer(page.body.next).slice(s.url.length));
    expect(second.status).toBe(200);
    expect(second.body.previous).toBe(`${PUBLIC}/messages/api/chats/`);

    // /api/dm/ pages 50 messages: one more gives a cursor link.
    for (let i = 0; i < 51; i += 17) {
      await Promise.all(Array.from({ length: 17 }, (_, j) => alice.client.post(`/api/dm/send/${bob.id}/`, { content: `m${i + j}` })));
    }
    const dms = await bob.client.get(`/api/dm/conversations/${alice.id}/`);
    expect(dms.body.next).toMatch(new RegExp(`^${PUBLIC}/api/dm/conversations/${alice.id}/\\?cursor=`));
    expect((await bob.client.get(onTestServer(dms.body.next).slice(s.url.length))).body.results.length).toBeGreaterThan(0);
  });
});
