import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '../e2e/harness.js';
import { launchBrowser, screenshotDir, seriousViolations, signUpInBrowser, startUiServer } from './fixtures.js';

/**
 * The /messages/ page in a real Chromium, two people in two browser contexts: a DM with live
 * messages, typing, read receipts, reactions, edits and deletes; a group; search; themes; axe.
 */
describe('/messages/ page', { timeout: 60_000 }, () => {
  let server: TestServer;
  let browser: Browser;
  let ctxA: BrowserContext;
  let ctxB: BrowserContext;
  let a: Page;
  let b: Page;
  const dialogs: string[] = [];

  beforeAll(async () => {
    [server, browser] = await Promise.all([startUiServer(), launchBrowser()]);
    ctxA = await browser.newContext({ viewport: { width: 1100, height: 720 }, colorScheme: 'light', locale: 'en-US' });
    ctxB = await browser.newContext({ viewport: { width: 1100, height: 720 }, colorScheme: 'light', locale: 'en-US' });
    a = await ctxA.newPage();
    b = await ctxB.newPage();
    for (const p of [a, b]) {
      p.setDefaultTimeout(8000);
      // Navigation loads the bundles: slower than an action when the machine is busy.
      p.setDefaultNavigationTimeout(30_000);
    }
    for (const p of [a, b]) p.on('dialog', (d) => (dialogs.push(d.message()), void d.dismiss()));
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const messageItem = (p: Page, text: string | RegExp) => p.locator('parley-message-item').filter({ hasText: text });

  it('two users sign up, start a DM and talk live, with typing and read indicators', async () => {
    await signUpInBrowser(a, server.url, 'alice', 'Alice Liddell');
    await signUpInBrowser(b, server.url, 'bob', 'Bob Builder');
    await a.goto(`${server.url}/messages/`);
    await a.locator('[data-transport="websocket"]').waitFor();

    // Start a DM by searching a user (by email here).
    await a.getByRole('button', { name: 'New conversation' }).click();
    await a.getByPlaceholder('Search people by name, username or email').fill('bob@example');
    await a.getByRole('button', { name: 'Message Bob Builder' }).click();
    const composerA = a.getByLabel('Write a message');
    await composerA.waitFor();
    await composerA.fill('Hello Bob');
    await composerA.press('Enter');
    await messageItem(a, 'Hello Bob').waitFor();
    // Shift+Enter is a newline, Enter sends.
    await composerA.pressSequentially('line one');
    await composerA.press('Shift+Enter');
    await composerA.pressSequentially('line two');
    await composerA.press('Enter');
    await messageItem(a, 'line two').waitFor();
    expect(await messageItem(a, 'line two').locator('p.text').innerText()).toBe('line one\nline two');

    // Bob sees the conversation with an unread badge, opens it.
    await b.goto(`${server.url}/messages/`);
    const chatButton = b.locator('parley-chat-list button[data-chat-id]').filter({ hasText: 'Alice Liddell' });
    await chatButton.waitFor();
    await chatButton.getByLabel('2 unread').waitFor();
    await chatButton.click();
    await messageItem(b, 'Hello Bob').waitFor();

    // Read indicator: Alice's last message is seen by Bob.
    await a.getByText('Seen by Bob Builder').waitFor();

    // Typing indicator.
    const composerB = b.getByLabel('Write a message');
    await composerB.pressSequentially('Hi Ali');
    await a.getByText('Bob Builder is typing…').waitFor();
    await composerB.pressSequentially('ce!');
    await composerB.press('Enter');
    await messageItem(a, 'Hi Alice!').waitFor();
    await a.getByText('Bob Builder is typing…').waitFor({ state: 'hidden' });
    // New messages are announced in a polite live region.
    expect(await a.locator('[role="log"][aria-live="polite"]').innerText()).toContain('Hi Alice!');
  });

  it('reacts, edits and deletes live', async () => {
    // Bob reacts to Alice's first message with 👍.
    const hello = messageItem(b, 'Hello Bob');
    await hello.hover();
    await hello.getByRole('button', { name: 'Add a reaction' }).click();
    await hello.getByRole('button', { name: 'React with 👍' }).click();
    await messageItem(a, 'Hello Bob').getByRole('button', { name: '👍 1: Bob Builder' }).waitFor();
    // Alice adds the same: the count and who reacted follow.
    await messageItem(a, 'Hello Bob').getByRole('button', { name: '👍 1: Bob Builder' }).click();
    await messageItem(b, 'Hello Bob').getByRole('button', { name: /👍 2: (You and Alice Liddell|Alice Liddell and You)/ }).waitFor();

    // Alice edits her message (found by id: while edited, its text is in a text box).
    const helloId = await messageItem(a, 'Hello Bob').getAttribute('data-id');
    const mine = a.locator(`parley-message-item[data-id="${helloId}"]`);
    await mine.hover();
    await mine.getByRole('button', { name: 'Edit message' }).click();
    const editor = mine.getByLabel('Edit your message');
    await editor.fill('Hello Bob, edited');
    await editor.press('Enter');
    await messageItem(b, 'Hello Bob, edited').getByText('(edited)').waitFor();

    // Alice deletes her two-line message.
    const twoLines = messageItem(a, 'line two');
    await twoLines.hover();
    await twoLines.getByRole('button', { name: 'Delete message' }).click();
    await messageItem(b, 'line two').waitFor({ state: 'detached' });
    await messageItem(a, 'line two').waitFor({ state: 'detached' });
  });

  it('renders message text, names and titles as text, never as HTML', async () => {
    const evil = '<img src=x onerror=alert(1)>';
    const composerA = a.getByLabel('Write a message');
    await composerA.fill(evil);
    await composerA.press('Enter');
    const item = messageItem(b, evil);
    await item.waitFor();
    expect(await item.locator('p.text').innerText()).toBe(evil);
    expect(await b.locator('img[src="x"]').count()).toBe(0);
    expect(await a.locator('img[src="x"]').count()).toBe(0);
    expect(dialogs).toEqual([]);
  });

  it('finds messages with highlighted results and jumps to them', async () => {
    await a.getByLabel('Search messages').fill('edited');
    const hit = a.locator('button.hit').first();
    await hit.waitFor();
    expect(await hit.locator('mark').first().innerText()).toMatch(/edited/i);
    await hit.click();
    // The message is loaded, scrolled to, highlighted and focused.
    const target = a.locator('parley-message-item.flash');
    await target.waitFor();
    expect(await target.locator('p.text').innerText()).toBe('Hello Bob, edited');
    expect(await target.evaluate((el) => el.matches(':focus'))).toBe(true);
    await a.getByRole('button', { name: 'Close search' }).click();
  });

  it('has no serious accessibility violations, light and dark, and saves screenshots', async () => {
    await a.mouse.move(0, 0);
    expect(await seriousViolations(a)).toEqual([]);
    await a.screenshot({ path: join(screenshotDir, 'messages-light.png') });
    await a.emulateMedia({ colorScheme: 'dark' });
    expect(await seriousViolations(a)).toEqual([]);
    await a.screenshot({ path: join(screenshotDir, 'messages-dark.png') });
    await a.emulateMedia({ colorScheme: 'light' });
  });

  it('toggles the theme and keeps the choice', async () => {
    await a.getByRole('button', { name: 'Dark mode' }).click();
    const page = a.locator('parley-messages-page');
    expect(await page.getAttribute('theme')).toBe('dark');
    await a.reload();
    await a.locator('parley-messages-page[theme="dark"]').waitFor();
    expect(await a.getByRole('button', { name: 'Dark mode' }).getAttribute('aria-pressed')).toBe('true');
    await a.getByRole('button', { name: 'Dark mode' }).click();
    await a.locator('parley-messages-page[theme="light"]').waitFor();
  });

  it('creates a group with a title and members; an admin removes a member', async () => {
    const carol = await server.user('carol', { display_name: 'Carol Danvers' });
    await a.getByRole('button', { name: 'New conversation' }).click();
    await a.getByRole('button', { name: 'Group', exact: true }).click();
    await a.getByLabel('Group name').fill('Project <b>X</b>');
    const search = a.getByPlaceholder('Search people by name, username or email');
    await search.fill('bob');
    await a.getByRole('button', { name: 'Add Bob Builder' }).click();
    await search.fill('carol');
    await a.getByRole('button', { name: 'Add Carol Danvers' }).click();
    await a.getByRole('button', { name: 'Create group' }).click();
    const heading = a.locator('parley-conversation h2');
    await heading.filter({ hasText: 'Project <b>X</b>' }).waitFor();
    await a.getByText('3 members').waitFor();
    // Bob sees the new group live.
    await b.locator('parley-chat-list button[data-chat-id]').filter({ hasText: 'Project <b>X</b>' }).waitFor();

    await a.getByRole('button', { name: 'Conversation settings' }).click();
    await a.getByRole('button', { name: 'Remove Carol Danvers' }).click();
    await a.getByRole('button', { name: 'Remove Carol Danvers' }).waitFor({ state: 'detached' });
    await a.getByRole('button', { name: 'Close settings' }).click();
    await a.getByText('2 members').waitFor();
    const carolChats = await carol.client.get('/messages/api/chats/');
    expect(carolChats.body.count).toBe(0);
  });
});
