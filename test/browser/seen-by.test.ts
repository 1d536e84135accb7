import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '../e2e/harness.js';
import { launchBrowser, signInContext, startUiServer } from './fixtures.js';

const API = '/messages/api';

/**
 * "Seen by" under one's own last message names only members who were there when it was sent:
 * someone added later reads past it (their read position moves beyond it) without ever
 * appearing as having seen it.
 */
describe('/messages/ page: seen by', { timeout: 60_000 }, () => {
  let server: TestServer;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    [server, browser] = await Promise.all([startUiServer(), launchBrowser()]);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('leaves out a member who joined after the message, even once they read past it', async () => {
    const alice = await server.user('alice', { display_name: 'Alice A' });
    const bob = await server.user('bob', { display_name: 'Bob B' });
    const carol = await server.user('carol', { display_name: 'Carol C' });
    const dave = await server.user('dave', { display_name: 'Dave D' });
    const chat = (await alice.client.post(`${API}/chats/`, { chat_type: 'group', title: 'Seen', member_ids: [bob.id, carol.id] })).body as { id: number };
    expect((await alice.client.post(`${API}/chats/${chat.id}/messages/`, { content: 'from alice' })).status).toBe(201);
    await bob.client.post(`${API}/chats/${chat.id}/mark-as-read/`);

    const context = await browser.newContext({ viewport: { width: 1100, height: 720 }, locale: 'en-US' });
    await signInContext(context, server.url, 'alice', 'pw-alice-secret');
    page = await context.newPage();
    page.setDefaultTimeout(8000);
    page.setDefaultNavigationTimeout(30_000);
    await page.goto(`${server.url}/messages/`);
    await page.locator('parley-chat-list button[data-chat-id]').filter({ hasText: 'Seen' }).click();
    const seen = page.locator('parley-message-item .seen');
    await page.getByText('Seen by Bob B').waitFor();

    // Dave joins, Bob writes, Dave reads it: Dave's read position is past Alice's message now.
    expect((await alice.client.post(`${API}/chats/${chat.id}/members/add/`, { user_ids: [dave.id] })).status).toBe(200);
    expect((await bob.client.post(`${API}/chats/${chat.id}/messages/`, { content: 'from bob' })).status).toBe(201);
    await page.locator('parley-message-item').filter({ hasText: 'from bob' }).waitFor();
    expect((await dave.client.post(`${API}/chats/${chat.id}/mark-as-read/`)).body.marked_count).toBe(1);
    // Carol, a member all along, reads after Dave: her name appears, Dave's never does.
    await carol.client.post(`${API}/chats/${chat.id}/mark-as-read/`);
    await page.getByText('Seen by Bob B and Carol C').waitFor();
    expect(await seen.allInnerTexts()).toEqual(['Seen by Bob B and Carol C']);
    await context.close();
  });
});
