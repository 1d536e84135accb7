import { randomBytes } from 'node:crypto';
import { type Server, createServer } from 'node:http';
import { crc32, deflateSync } from 'node:zlib';
import pg from 'pg';
import { ParleyClient, ParleyHttpError } from '../../client/src/index.js';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer, TestUser } from '../e2e/harness.js';
import { launchBrowser, seriousViolations, signInContext, startUiServer } from './fixtures.js';

/**
 * With `PARLEY_TEST_BACKEND=postgres`, a private PostgreSQL schema and Redis prefix (as the e2e
 * harness does), so the UI is also checked against the real databases; else SQLite.
 */
function backend(): { config: { databaseUrl?: string; redisUrl?: string }; drop: () => Promise<void> } {
  if (process.env.PARLEY_TEST_BACKEND !== 'postgres') return { config: {}, drop: async () => {} };
  const pgUrl = process.env.PARLEY_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const redisUrl = process.env.PARLEY_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
  const schema = `ui_${randomBytes(6).toString('hex')}`;
  return {
    config: { databaseUrl: `${pgUrl}${pgUrl.includes('?') ? '&' : '?'}schema=${schema}`, redisUrl: `${redisUrl}?prefix=${schema}:` },
    async drop() {
      const c = new pg.Client({ connectionString: pgUrl });
      await c.connect();
      try {
        await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await c.end();
      }
    },
  };
}

/** Browser globals the page functions use (this file compiles without the DOM library). */
interface BrowserGlobals {
  DataTransfer: new () => { items: { add(file: unknown): void } };
  File: new (parts: unknown[], name: string, options: { type: string }) => unknown;
  ClipboardEvent: new (type: string, init: { clipboardData: unknown; bubbles: boolean; cancelable: boolean }) => unknown;
  document: { activeElement: FocusedElement | null };
}
interface FocusedElement {
  shadowRoot: { activeElement: FocusedElement | null } | null;
  getAttribute(name: string): string | null;
}
type LoadedImage = { complete: boolean; naturalWidth: number };

/** A valid RGB PNG of random pixels (noise does not compress, so the upload takes a moment when throttled). */
function noisePng(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(td));
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const rows: Buffer[] = [];
  for (let y = 0; y < height; y++) rows.push(Buffer.concat([Buffer.from([0]), randomBytes(width * 3)]));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.concat(rows))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/**
 * Attachments, replies and forwards in the web UI, two people in two browser contexts: upload
 * with a progress bar, a live preview on the other side that really loads (signed URL), the
 * image viewer (modal, Escape, axe), drag and drop, paste, a refused upload, reply quotes,
 * forwards, and the room widget's attach button.
 */
describe('attachments, replies and forwards in the UI', { timeout: 60_000 }, () => {
  let server: TestServer;
  let browser: Browser;
  let alice: TestUser;
  let bob: TestUser;
  let ctxA: BrowserContext;
  let ctxB: BrowserContext;
  let a: Page;
  let b: Page;
  let dmId: number;
  let groupId: number;
  const photo = noisePng(240, 160);
  const db = backend();
  // A site of another origin embedding the room widget (allowed by the server).
  let host: Server;
  let hostOrigin = '';

  beforeAll(async () => {
    host = createServer((_req, res) => {
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Shop</title>
<script src="${server.url}/static/parley-widgets.js" defer></script></head>
<body><main><h1>Product 9</h1><parley-room object="product:9"></parley-room></main></body></html>`);
    });
    await new Promise<void>((r) => host.listen(0, '127.0.0.1', r));
    const address = host.address();
    hostOrigin = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    [server, browser] = await Promise.all([startUiServer({ ...db.config, allowedOrigins: [hostOrigin], uploads: { maxBytes: 300_000 } }), launchBrowser()]);
    alice = await server.user('alice', { display_name: 'Alice Liddell' });
    bob = await server.user('bob', { display_name: 'Bob Builder' });
    const dm = await alice.client.post('/messages/api/chats/', { chat_type: 'dm', member_ids: [bob.id] });
    dmId = dm.body.id;
    const group = await alice.client.post('/messages/api/chats/', { chat_type: 'group', member_ids: [bob.id], title: 'Team room' });
    groupId = group.body.id;
    ctxA = await browser.newContext({ viewport: { width: 1100, height: 760 }, colorScheme: 'light', locale: 'en-US' });
    ctxB = await browser.newContext({ viewport: { width: 1100, height: 760 }, colorScheme: 'light', locale: 'en-US' });
    await signInContext(ctxA, server.url, 'alice', 'pw-alice-secret');
    await signInContext(ctxB, server.url, 'bob', 'pw-bob-secret');
    a = await ctxA.newPage();
    b = await ctxB.newPage();
    for (const p of [a, b]) {
      p.setDefaultTimeout(10_000);
      // Navigation loads the bundles: slower than an action when the machine is busy.
      p.setDefaultNavigationTimeout(30_000);
    }
    await Promise.all([a.goto(`${server.url}/messages/#chat=${dmId}`), b.goto(`${server.url}/messages/#chat=${dmId}`)]);
    await Promise.all([a.locator('[data-transport="websocket"]').waitFor(), b.locator('[data-transport="websocket"]').waitFor()]);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await db.drop();
    await new Promise((r) => host?.close(r));
  });

  const item = (p: Page, text: string | RegExp) => p.locator('parley-message-item').filter({ hasText: text });
  const naturalWidth = (p: Page, selector: string) => p
      .locator(selector)
      .first()
      .evaluate((el) => {
        const img = el as unknown as LoadedImage;
        return img.complete ? img.naturalWidth : 0;
      });

  it('uploads an image with a progress bar; the other side sees the preview live and opens it in the viewer', async () => {
    // Slow uploads down so the progress bar is there long enough to be seen.
    const cdp = await ctxA.newCDPSession(a);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 40_000 });
    const attach = a.getByRole('button', { name: 'Attach files' });
    await attach.waitFor();
    await a.locator('parley-composer input[type="file"]').setInputFiles({ name: 'sunset.png', mimeType: 'image/png', buffer: photo });
    const tray = a.getByRole('list', { name: 'Files to send' });
    await tray.getByRole('progressbar', { name: 'Uploading sunset.png' }).waitFor();
    // Sending waits for the upload: the Send button is disabled meanwhile.
    expect(await a.getByRole('button', { name: 'Send' }).isDisabled()).toBe(true);
    await tray.getByRole('progressbar').waitFor({ state: 'detached', timeout: 20_000 });
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    await tray.getByRole('button', { name: 'Remove sunset.png' }).waitFor();
    await a.getByLabel('Write a message').fill('Look at this');
    await a.getByRole('button', { name: 'Send' }).click();
    await tray.waitFor({ state: 'detached' });

    // Bob sees it live: the thumbnail really loads from its signed URL, at a fixed size.
    const preview = b.locator('parley-message-item img[alt="sunset.png"]');
    await preview.waitFor();
    await expect.poll(() => naturalWidth(b, 'parley-message-item img[alt="sunset.png"]'), { timeout: 10_000 }).toBeGreaterThan(0);
    expect(await preview.getAttribute('width')).toBe('240');
    expect(await preview.getAttribute('height')).toBe('160');

    // The viewer: a modal dialog with the full image; Escape closes it and the focus comes back.
    const thumb = b.getByRole('button', { name: 'View image sunset.png' });
    await thumb.click();
    const viewer = b.getByRole('dialog', { name: 'sunset.png' });
    await viewer.waitFor();
    await expect.poll(() => naturalWidth(b, 'parley-image-viewer img'), { timeout: 10_000 }).toBe(240);
    expect(await seriousViolations(b)).toEqual([]);
    await b.keyboard.press('Escape');
    await viewer.waitFor({ state: 'detached' });
    const focused = await b.evaluate(() => {
      let el = (globalThis as unknown as BrowserGlobals).document.activeElement;
      while (el?.shadowRoot?.activeElement) el = el.shadowRoot.activeElement;
      return el?.getAttribute('aria-label') ?? null;
    });
    expect(focused).toBe('View image sunset.png');
  });

  it('replies show a quote of the parent on the other side; the quote leads to the parent', async () => {
    const original = item(b, 'Look at this');
    await original.hover();
    await original.getByRole('button', { name: 'Reply', exact: true }).click();
    await b.getByText('Replying to Alice Liddell').waitFor();
    const box = b.getByLabel('Write a message');
    await box.fill('Gorgeous colours');
    await box.press('Enter');
    await b.getByText('Replying to Alice Liddell').waitFor({ state: 'detached' });

    const reply = item(a, 'Gorgeous colours');
    await reply.waitFor();
    const quote = reply.getByRole('button', { name: 'In reply to Alice Liddell' });
    await quote.waitFor();
    expect(await quote.innerText()).toContain('Look at this');
    await quote.click();
    await expect.poll(() => item(a, 'Look at this').first().evaluate((el) => el.classList.contains('flash'))).toBe(true);

    // The reply can be cancelled before sending.
    await reply.hover();
    await reply.getByRole('button', { name: 'Reply', exact: true }).click();
    await a.getByRole('button', { name: 'Cancel reply' }).click();
    await a.getByText('Replying to Bob Builder').waitFor({ state: 'detached' });
  });

  it('forwards a message with its image to another conversation, marked "Forwarded"', async () => {
    const original = item(a, 'Look at this').first();
    await original.hover();
    await original.getByRole('button', { name: 'Forward', exact: true }).click();
    const dialog = a.getByRole('dialog', { name: 'Forward message' });
    await dialog.getByRole('button', { name: 'Forward to Team room' }).click();
    await dialog.waitFor({ state: 'detached' });
    await b.goto(`${server.url}/messages/#chat=${groupId}`);
    const forwarded = item(b, 'Look at this');
    await forwarded.getByText('Forwarded').waitFor();
    // The server copied the file: the forward's own signed URL loads.
    await expect.poll(() => naturalWidth(b, 'parley-message-item img[alt="sunset.png"]'), { timeout: 10_000 }).toBeGreaterThan(0);
    const page = await bob.client.get(`/messages/api/chats/${groupId}/messages/`);
    expect(page.body.results.at(-1)).toMatchObject({ content: 'Look at this', forwarded_from_id: expect.any(Number), attachments: [{ name: 'sunset.png' }] });
    await b.goto(`${server.url}/messages/#chat=${dmId}`);
    await item(b, 'Gorgeous colours').waitFor();
  });

  it('drag and drop onto the conversation, and pasting an image, attach files', async () => {
    const pane = a.locator('parley-conversation');
    const bytes = [...noisePng(32, 24)];
    const dropped = await a.evaluateHandle((data) => {
      const w = globalThis as unknown as BrowserGlobals;
      const dt = new w.DataTransfer();
      dt.items.add(new w.File([new Uint8Array(data)], 'dropped.png', { type: 'image/png' }));
      return dt;
    }, bytes);
    await pane.dispatchEvent('dragenter', { dataTransfer: dropped });
    await a.getByText('Drop files to attach them').waitFor();
    await pane.dispatchEvent('drop', { dataTransfer: dropped });
    await a.getByText('Drop files to attach them').waitFor({ state: 'detached' });
    await a.getByRole('button', { name: 'Remove dropped.png' }).waitFor();

    // Paste an image into the box.
    await a.locator('parley-composer textarea').evaluate((box, data) => {
      const w = globalThis as unknown as BrowserGlobals;
      const dt = new w.DataTransfer();
      dt.items.add(new w.File([new Uint8Array(data)], 'pasted.png', { type: 'image/png' }));
      box.dispatchEvent(new w.ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }) as Parameters<typeof box.dispatchEvent>[0]);
    }, bytes);
    await a.getByRole('button', { name: 'Remove pasted.png' }).waitFor();
    await a.getByRole('list', { name: 'Files to send' }).getByRole('progressbar').first().waitFor({ state: 'detached' });
    // Files only, no text: allowed.
    await a.getByRole('button', { name: 'Send' }).click();
    await b.locator('parley-message-item img[alt="dropped.png"]').waitFor();
    await b.locator('parley-message-item img[alt="pasted.png"]').waitFor();
  });

  it('a refused upload shows the server’s reason and can be removed', async () => {
    // HTML bytes under an image name: the type comes from the bytes, and HTML is refused.
    await a.locator('parley-composer input[type="file"]').setInputFiles({ name: 'trick.png', mimeType: 'image/png', buffer: Buffer.from('<!doctype html><html><script>alert(1)</script></html>') });
    const alert = a.getByRole('list', { name: 'Files to send' }).getByRole('alert');
    await alert.waitFor();
    expect(await alert.innerText()).toMatch(/^Upload failed: \S/);
    expect(await alert.innerText()).toContain('text/html');
    await a.getByRole('button', { name: 'Remove trick.png' }).click();
    await a.getByRole('list', { name: 'Files to send' }).waitFor({ state: 'detached' });

    // Over the size limit (300 kB here): 413, said in the tray.
    await a.locator('parley-composer input[type="file"]').setInputFiles({ name: 'huge.png', mimeType: 'image/png', buffer: noisePng(400, 300) });
    const tooBig = a.getByRole('list', { name: 'Files to send' }).getByRole('alert');
    await tooBig.waitFor();
    expect(await tooBig.innerText()).toMatch(/^Upload failed: \S/);
    expect(await tooBig.innerText()).not.toMatch(/network/i);
    await a.getByRole('button', { name: 'Remove huge.png' }).click();
    await a.getByRole('list', { name: 'Files to send' }).waitFor({ state: 'detached' });
  });

  it('the room widget on a site of another origin uploads with the visitor’s cookie and shows the image from the server', async () => {
    const p = await ctxA.newPage();
    p.setDefaultTimeout(10_000);
    p.setDefaultNavigationTimeout(30_000);
    await p.goto(`${hostOrigin}/`);
    const room = p.locator('parley-room');
    await room.getByRole('button', { name: 'Join the discussion' }).click();
    await room.locator('parley-composer input[type="file"]').setInputFiles({ name: 'cross.png', mimeType: 'image/png', buffer: noisePng(30, 20) });
    await room.getByRole('button', { name: 'Remove cross.png' }).waitFor();
    await room.getByRole('list', { name: 'Files to send' }).getByRole('progressbar').waitFor({ state: 'detached' });
    await room.getByRole('button', { name: 'Send' }).click();
    const img = room.locator('parley-message-item img[alt="cross.png"]');
    await img.waitFor();
    expect(await img.evaluate((el) => (el as unknown as { src: string }).src)).toContain(server.url);
    await expect.poll(() => img.evaluate((el) => ((el as unknown as LoadedImage).complete ? (el as unknown as LoadedImage).naturalWidth : 0))).toBe(30);
    expect(await seriousViolations(p)).toEqual([]);
    await p.close();
  });

  it('the SDK uploads from Node 20 too (global fetch, token): attach, send, and a refused type as a 415 ParleyHttpError', async () => {
    const client = new ParleyClient({ baseUrl: server.url, token: alice.token, transport: 'polling' });
    const progress: number[] = [];
    const file = Object.assign(new Blob([noisePng(12, 8)], { type: 'image/png' }), { name: 'node.png' });
    const attachment = await client.uploadFile(file, { onProgress: (p) => progress.push(p.loaded / p.total) });
    expect(attachment).toMatchObject({ name: 'node.png', media_type: 'image', width: 12, height: 8 });
    expect(progress.at(-1)).toBe(1);
    const sent = await client.send(dmId, '', { attachmentIds: [attachment.id] });
    expect(sent.attachments?.map((x) => x.id)).toEqual([attachment.id]);
    const refused = await client.uploadFile(Object.assign(new Blob(['<html><body>hi</body></html>']), { name: 'x.png' })).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ParleyHttpError);
    expect((refused as ParleyHttpError).status).toBe(415);
    // A reply and a forward at once is refused.
    const both = await client.send(dmId, 'both', { parentId: sent.id, forwardedFromId: sent.id }).catch((e: unknown) => e);
    expect((both as ParleyHttpError).status).toBe(400);
    await b.locator('parley-message-item img[alt="node.png"]').waitFor();
  });

  it('the room widget has the attach button and sends an image', async () => {
    const p = await ctxB.newPage();
    p.setDefaultTimeout(10_000);
    p.setDefaultNavigationTimeout(30_000);
    await p.goto(`${server.url}/demo/?seller=${alice.id}`);
    const room = p.locator('parley-room');
    await room.getByRole('button', { name: 'Join the discussion' }).click();
    await room.getByRole('button', { name: 'Attach files' }).waitFor();
    await room.locator('parley-composer input[type="file"]').setInputFiles({ name: 'widget.png', mimeType: 'image/png', buffer: noisePng(20, 20) });
    await room.getByRole('button', { name: 'Remove widget.png' }).waitFor();
    await room.getByRole('list', { name: 'Files to send' }).getByRole('progressbar').waitFor({ state: 'detached' });
    await room.getByRole('button', { name: 'Send' }).click();
    const img = room.locator('parley-message-item img[alt="widget.png"]');
    await img.waitFor();
    await expect.poll(() => img.evaluate((el) => ((el as unknown as LoadedImage).complete ? (el as unknown as LoadedImage).naturalWidth : 0))).toBeGreaterThan(0);
    await p.close();
  });
});
