import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer, TestUser } from '../e2e/harness.js';
import { launchBrowser, screenshotDir, seedMessages, signInContext, startUiServer } from './fixtures.js';

const WINDOW = 150;

/** Long histories stay bounded in the DOM; live updates survive blocked WebSockets. */
describe('/messages/ history window and polling fallback', { timeout: 60_000 }, () => {
  let server: TestServer;
  let browser: Browser;
  let dana: TestUser;
  let eve: TestUser;
  let chatId: number;

  beforeAll(async () => {
    [server, browser] = await Promise.all([startUiServer(), launchBrowser()]);
    dana = await server.user('dana', { display_name: 'Dana Scully' });
    eve = await server.user('eve', { display_name: 'Eve Moneypenny' });
    const chat = await dana.client.post('/messages/api/chats/', { chat_type: 'dm', member_ids: [eve.id] });
    chatId = chat.body.id;
    await seedMessages(dana.client, chatId, 500);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  async function openAs(username: string, options: { blockWebSockets?: boolean } = {}): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1000, height: 700 }, colorScheme: 'light', locale: 'en-US' });
    if (options.blockWebSockets) await context.routeWebSocket(/.*/, (ws) => ws.close({ code: 1006 as number, reason: 'blocked' }).catch(() => {}));
    await signInContext(context, server.url, username, `pw-${username}-secret`);
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    page.setDefaultNavigationTimeout(30_000);
    await page.goto(`${server.url}/messages/#chat=${chatId}`);
    return page;
  }

  const firstId = (page: Page) => page.locator('parley-message-item').first().getAttribute('data-id');

  it('loads a 500-message history lazily on scroll-up and keeps the DOM bounded', async () => {
    const page = await openAs('eve');
    await page.locator('parley-message-item').filter({ hasText: 'history message 500' }).waitFor();
    expect(await page.locator('parley-message-item').count()).toBe(50);
    const scroller = page.locator('parley-message-list .scroller');
    let max = 0;
    for (let round = 0; round < 20; round++) {
      const before = await firstId(page);
      await scroller.evaluate((el) => (el.scrollTop = 0));
      const changed = await page
        .waitForFunction(
          ([sel, id]) => {
            // parley-message-list is inside the page's and the conversation's shadow roots.
            type Root = { querySelector(s: string): Root | null; shadowRoot: Root | null; getAttribute(n: string): string | null };
            let node = (globalThis as unknown as { document: Root }).document.querySelector('parley-messages-page');
            for (const step of ['parley-conversation', 'parley-message-list', sel]) node = node?.shadowRoot?.querySelector(step) ?? null;
            return node !== null && node.getAttribute('data-id') !== id;
          },
          ['parley-message-item', before] as const,
          { timeout: 3000 },
        )
        .then(() => true)
        .catch(() => false);
      const count = await page.locator('parley-message-item').count();
      max = Math.max(max, count);
      expect(count).toBeLessThanOrEqual(WINDOW);
      if (!changed) break;
    }
    await page.getByText('This is the beginning of the conversation.').waitFor();
    expect(await page.locator('parley-message-item p.text').first().innerText()).toBe('history message 1');
    expect(max).toBe(WINDOW);
    expect(await page.locator('parley-message-item').count()).toBeLessThanOrEqual(WINDOW);
    await page.screenshot({ path: join(screenshotDir, 'messages-history-top.png') });

    // Back to the present.
    await page.getByRole('button', { name: 'Jump to the latest messages' }).click();
    await page.locator('parley-message-item').filter({ hasText: 'history message 500' }).waitFor();
    expect(await page.locator('parley-message-item').count()).toBeLessThanOrEqual(WINDOW);
    await page.context().close();
  });

  it('falls back to long-polling by itself when WebSockets are blocked, and stays live', async () => {
    const page = await openAs('eve', { blockWebSockets: true });
    await page.locator('[data-transport="polling"]').waitFor();
    await page.locator('parley-message-item').filter({ hasText: 'history message 500' }).waitFor();
    // A message from Dana arrives live over polling.
    await dana.client.post(`/messages/api/chats/${chatId}/messages/`, { content: 'over the long poll' });
    await page.locator('parley-message-item').filter({ hasText: 'over the long poll' }).waitFor();
    // And Eve's reply goes out and reaches Dana.
    const box = page.getByLabel('Write a message');
    await box.fill('polling works');
    await box.press('Enter');
    await page.locator('parley-message-item').filter({ hasText: 'polling works' }).waitFor();
    const latest = await dana.client.get(`/messages/api/chats/${chatId}/messages/`);
    expect(latest.body.results.at(-1).content).toBe('polling works');
    await page.context().close();
  });
});
