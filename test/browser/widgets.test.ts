import { type Server, createServer } from 'node:http';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer, TestUser } from '../e2e/harness.js';
import { launchBrowser, screenshotDir, seriousViolations, signInContext, startUiServer } from './fixtures.js';

/** <parley-room> and <parley-dm> on the /demo/ page and on a page of another (allowed) origin. */
describe('widgets', { timeout: 60_000 }, () => {
  let server: TestServer;
  let browser: Browser;
  let host: Server;
  let hostOrigin: string;
  let seller: TestUser;
  let buyer: TestUser;
  let sellerCtx: BrowserContext;
  let buyerCtx: BrowserContext;

  beforeAll(async () => {
    // A site of another origin that embeds the widgets (its origin is allowed by the server).
    host = createServer((_req, res) => {
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end(`<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Boutique</title>
<script src="${serverUrlRef.value}/static/parley-widgets.js" defer></script></head>
<body><main><h1>Produit 7</h1>
<parley-room object="product:7" style="--parley-accent: #6d28d9"></parley-room>
</main></body></html>`);
    });
    await new Promise<void>((r) => host.listen(0, '127.0.0.1', r));
    const address = host.address();
    hostOrigin = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    [server, browser] = await Promise.all([startUiServer({ allowedOrigins: [hostOrigin] }), launchBrowser()]);
    serverUrlRef.value = server.url;
    seller = await server.user('seller', { display_name: 'Sam Seller' });
    buyer = await server.user('buyer', { display_name: 'Bea Buyer' });
    sellerCtx = await browser.newContext({ viewport: { width: 1200, height: 800 }, colorScheme: 'light', locale: 'en-US' });
    buyerCtx = await browser.newContext({ viewport: { width: 1200, height: 800 }, colorScheme: 'light', locale: 'en-US' });
    await signInContext(sellerCtx, server.url, 'seller', 'pw-seller-secret');
    await signInContext(buyerCtx, server.url, 'buyer', 'pw-buyer-secret');
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await new Promise((r) => host?.close(r));
  });

  const open = async (ctx: BrowserContext, url: string): Promise<Page> => {
    const page = await ctx.newPage();
    page.setDefaultTimeout(10_000);
    page.setDefaultNavigationTimeout(30_000);
    await page.goto(url);
    return page;
  };

  it('the room widget on the demo page: join, talk live between two visitors', async () => {
    const b = await open(buyerCtx, `${server.url}/demo/?seller=${seller.id}`);
    const s = await open(sellerCtx, `${server.url}/demo/?seller=${seller.id}`);
    await b.locator('parley-room').getByRole('button', { name: 'Join the discussion' }).click();
    await s.locator('parley-room').getByRole('button', { name: 'Join the discussion' }).click();
    const box = b.locator('parley-room').getByLabel('Write a message');
    await box.fill('Do they run large?');
    await box.press('Enter');
    await s.locator('parley-room parley-message-item').filter({ hasText: 'Do they run large?' }).waitFor();
    await s.locator('parley-room').getByRole('heading', { name: 'Questions about this product' }).waitFor();
  });

  it('the DM widget on a profile: the buyer messages the seller, who finds it unread in /messages/', async () => {
    const b = await buyerCtx.pages()[0]!;
    const s = await sellerCtx.pages()[0]!;
    // The seller looks at their own profile: the widget says so.
    await s.locator('parley-dm').getByText('This is you.').waitFor();
    const box = b.locator('parley-dm').getByLabel('Write a message');
    await box.fill('Hi Sam, is the blue one in stock?');
    await box.press('Enter');
    await b.locator('parley-dm parley-message-item').filter({ hasText: 'blue one' }).waitFor();
    const chats = await seller.client.get('/messages/api/chats/?chat_type=dm');
    expect(chats.body.results[0].last_message.content).toBe('Hi Sam, is the blue one in stock?');
    const m = await open(sellerCtx, `${server.url}/messages/`);
    await m.locator('parley-chat-list button[data-chat-id]').filter({ hasText: 'Bea Buyer' }).getByLabel('1 unread').waitFor();
    await m.close();
  });

  it('has no serious accessibility violations on the demo page, light and dark; screenshots', async () => {
    const b = buyerCtx.pages()[0]!;
    await b.mouse.move(0, 0);
    expect(await seriousViolations(b)).toEqual([]);
    await b.screenshot({ path: join(screenshotDir, 'demo-light.png'), fullPage: true });
    await b.locator('parley-room').screenshot({ path: join(screenshotDir, 'widget-room-light.png') });
    await b.locator('parley-dm').screenshot({ path: join(screenshotDir, 'widget-dm-light.png') });
    await b.emulateMedia({ colorScheme: 'dark' });
    expect(await seriousViolations(b)).toEqual([]);
    await b.screenshot({ path: join(screenshotDir, 'demo-dark.png'), fullPage: true });
    await b.locator('parley-room').screenshot({ path: join(screenshotDir, 'widget-room-dark.png') });
    await b.locator('parley-dm').screenshot({ path: join(screenshotDir, 'widget-dm-dark.png') });
  });

  it('works on a page of another allowed origin, in that page’s language', async () => {
    const p = await open(buyerCtx, `${hostOrigin}/`);
    await p.locator('parley-room').getByRole('button', { name: 'Rejoindre la discussion' }).click();
    const box = p.locator('parley-room').getByLabel('Écrire un message');
    await box.fill('Bonjour depuis un autre site');
    await box.press('Enter');
    await p.locator('parley-room parley-message-item').filter({ hasText: 'Bonjour depuis un autre site' }).waitFor();
    expect(await seriousViolations(p)).toEqual([]);
  });

  it('a signed-out visitor is asked to sign in', async () => {
    const ctx = await browser.newContext();
    const p = await open(ctx, `${server.url}/demo/`);
    await p.locator('parley-room').getByRole('link', { name: 'Sign in to chat' }).waitFor();
    await ctx.close();
  });
});

const serverUrlRef = { value: '' };
