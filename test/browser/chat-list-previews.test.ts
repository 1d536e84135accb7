import sharp from 'sharp';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client, TestServer, TestUser } from '../e2e/harness.js';
import { launchBrowser, seriousViolations, signInContext, startUiServer } from './fixtures.js';

const API = '/messages/api';

async function upload(client: Client, bytes: Buffer | string, name: string, type: string): Promise<number> {
  const form = new FormData();
  form.append('file', new Blob([bytes], { type }), name);
  const r = await fetch(`${client.base}${API}/uploads/`, { method: 'POST', headers: { authorization: `Token ${client.token}` }, body: form });
  expect(r.status).toBe(201);
  return ((await r.json()) as { id: number }).id;
}

/**
 * The conversation list previews messages without text by their files ("📎 notes.txt",
 * "📷 Photo", "📎 2 files"), and the conversation header mutes and unmutes a chat, the list's
 * 🔕 following without a reload.
 */
describe('/messages/ page: file previews and mute', { timeout: 60_000 }, () => {
  let server: TestServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let alice: TestUser;
  let bob: TestUser;
  let chat: number;

  const send = async (body: Record<string, unknown>) => {
    const r = await alice.client.post(`${API}/chats/${chat}/messages/`, body);
    expect(r.status).toBe(201);
    return r.body as { id: number };
  };
  const row = () => page.locator(`parley-chat-list button[data-chat-id="${chat}"]`);
  const preview = () => row().locator('.last');

  beforeAll(async () => {
    [server, browser] = await Promise.all([startUiServer({ uploads: { allowedTypes: ['image/*', 'text/plain'] } }), launchBrowser()]);
    alice = await server.user('alice', { display_name: 'Alice A' });
    bob = await server.user('bob', { display_name: 'Bob B' });
    chat = (await alice.client.post(`${API}/chats/`, { chat_type: 'group', title: 'Files', member_ids: [bob.id] })).body.id;
    context = await browser.newContext({ viewport: { width: 1100, height: 720 }, locale: 'en-US' });
    await signInContext(context, server.url, 'bob', 'pw-bob-secret');
    page = await context.newPage();
    page.setDefaultTimeout(8000);
    page.setDefaultNavigationTimeout(30_000);
    await page.goto(`${server.url}/messages/`);
    await row().waitFor();
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await server?.close();
  });

  it("shows a files-only message by its files in the other member's list, live and after a reload", async () => {
    const png = await sharp({ create: { width: 16, height: 16, channels: 3, background: { r: 0, g: 90, b: 200 } } }).png().toBuffer();

    await send({ content: '', attachment_ids: [await upload(alice.client, 'hello', 'notes.txt', 'text/plain')] });
    await expect.poll(() => preview().innerText()).toBe('Alice A: 📎 notes.txt');

    await send({ content: '', attachment_ids: [await upload(alice.client, png, 'photo.png', 'image/png')] });
    await expect.poll(() => preview().innerText()).toBe('Alice A: 📷 Photo');

    const two = [await upload(alice.client, png, 'a.png', 'image/png'), await upload(alice.client, 'b', 'b.txt', 'text/plain')];
    await send({ content: '', attachment_ids: two });
    await expect.poll(() => preview().innerText()).toBe('Alice A: 📎 2 files');

    // The REST list says the same on a fresh load; a forward reads "Forwarded: …".
    const original = await send({ content: 'see this' });
    await send({ forwarded_from_id: original.id });
    await page.reload();
    await expect.poll(() => preview().innerText()).toBe('Alice A: Forwarded: see this');
    expect(await seriousViolations(page)).toEqual([]);
  });

  it('mutes and unmutes from the conversation header, by keyboard, and the list follows', async () => {
    const muted = row().getByRole('img', { name: 'Muted' });
    await row().click();
    const mute = page.getByRole('button', { name: 'Mute notifications' });
    await mute.focus();
    await page.keyboard.press('Enter');
    await muted.waitFor();
    const unmute = page.getByRole('button', { name: 'Unmute notifications' });
    await unmute.waitFor();
    await page.getByRole('status').filter({ hasText: 'Notifications muted for Files' }).waitFor({ state: 'attached' });
    const listed = async () => (await bob.client.get(`${API}/chats/`)).body.results.find((c: { id: number }) => c.id === chat)?.is_muted;
    expect(await listed()).toBe(true);
    expect(await seriousViolations(page)).toEqual([]);

    await unmute.focus();
    await page.keyboard.press('Space');
    await muted.waitFor({ state: 'detached' });
    await page.getByRole('button', { name: 'Mute notifications' }).waitFor();
    expect(await listed()).toBe(false);
  });
});
