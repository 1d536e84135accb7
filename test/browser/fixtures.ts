import { mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, type Page, chromium } from 'playwright-core';
import { buildApp } from '../../src/app.js';
import { type ConfigFile, loadConfig } from '../../src/config/index.js';
import { uiFace } from '../../src/faces/ui/routes.js';
import { Client, type TestServer } from '../e2e/harness.js';
import { buildUi } from '../../ui/build.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/**
 * The tracked screenshots in docs/screenshots are rewritten only by `npm run screenshots`
 * (PARLEY_SCREENSHOTS=1); `npm test` writes its own to a temp folder and leaves the checkout clean.
 */
export const screenshotDir = process.env.PARLEY_SCREENSHOTS === '1' ? join(root, 'docs', 'screenshots') : mkdtempSync(join(tmpdir(), 'parley-screenshots-'));

let built: Promise<void> | null = null;

/**
 * Builds the UI bundles into `dist-ui/` once per test process. Test files run in parallel
 * forks, so each builds into its own folder and moves the files in with atomic renames.
 */
export function ensureUiBuilt(): Promise<void> {
  built ??= (async () => {
    const out = join(root, 'dist-ui');
    mkdirSync(out, { recursive: true });
    const tmp = join(out, `.build-${process.pid}`);
    await buildUi({ minify: false, outdir: tmp });
    for (const f of readdirSync(tmp)) renameSync(join(tmp, f), join(out, f));
    rmSync(tmp, { recursive: true, force: true });
  })();
  return built;
}

/**
 * `startServer()` of the e2e harness, with the UI face: it registers `uiFace` itself when
 * `src/app.ts` does not (yet), before the server listens.
 */
export async function startUiServer(config: ConfigFile = {}): Promise<TestServer> {
  await ensureUiBuilt();
  const dir = mkdtempSync(join(tmpdir(), 'parley-ui-test-'));
  const cfg = loadConfig({ cwd: dir, env: {}, overrides: { port: 0, host: '127.0.0.1', dataDir: dir, logLevel: 'silent', passwordHashCost: 12, ...config } });
  const app = await buildApp({ config: cfg });
  if (!app.http.hasRoute({ method: 'GET', url: '/messages/' })) {
    await app.http.register(uiFace({ core: app.core, accounts: app.accounts, config: app.config, hub: app.hub, log: app.http.log }));
  }
  const url = await app.listen();
  const anon = new Client(url);
  return {
    url,
    app,
    anon,
    async user(username, more = {}) {
      const r = await anon.post('/auth/register', { username, password: `pw-${username}-secret`, ...more });
      if (r.status !== 201) throw new Error(`register ${username}: ${r.status} ${r.text}`);
      return { id: r.body.user.id, username, token: r.body.token, client: new Client(url, r.body.token) };
    },
    async close() {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The system Chromium (Debian's), headless; never a downloaded browser. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
}

/** Signs a new user up through the form of `/` in this browser context; the session cookie stays in the context. */
export async function signUpInBrowser(page: Page, base: string, username: string, displayName: string): Promise<number> {
  await page.goto(`${base}/`);
  const form = page.locator('#signup');
  await form.getByLabel('Username').fill(username);
  await form.getByLabel('Display name').fill(displayName);
  await form.getByLabel('Email').fill(`${username}@example.com`);
  await form.getByLabel('Password').fill(`pw-${username}-secret`);
  await form.getByRole('button', { name: 'Sign up' }).click();
  await page.locator('#signed-in').waitFor({ state: 'visible' });
  const me = (await page.evaluate(() => fetch('/auth/me').then((r) => r.json()))) as { id: number };
  return me.id;
}

/** Creates a user over the API and puts its session cookie into a browser context. */
export async function signInContext(context: BrowserContext, base: string, username: string, password: string): Promise<void> {
  const r = await context.request.post(`${base}/auth/login`, { data: { username, password } });
  if (!r.ok()) throw new Error(`login ${username}: ${r.status()}`);
}

const axeSource = (async () => (await import('node:fs')).readFileSync(join(root, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8'))();

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: unknown; failureSummary?: string }[];
}

/** Runs axe-core in the page (through shadow roots) and returns the serious and critical violations. */
export async function seriousViolations(page: Page, include?: string): Promise<AxeViolation[]> {
  const has = await page.evaluate(() => 'axe' in globalThis);
  if (!has) await page.evaluate(await axeSource);
  const violations = await page.evaluate(async (sel) => {
    const g = globalThis as unknown as { document: unknown; axe: { run: (ctx: unknown, opts: unknown) => Promise<{ violations: AxeViolation[] }> } };
    const r = await g.axe.run(sel ?? g.document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target, failureSummary: n.failureSummary })) }));
  }, include ?? null);
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** Seeds messages over the API, one after another so their order is known. */
export async function seedMessages(client: Client, chatId: number, count: number, text = (i: number) => `history message ${i}`): Promise<void> {
  for (let i = 1; i <= count; i++) {
    const r = await client.post(`/messages/api/chats/${chatId}/messages/`, { content: text(i) });
    if (r.status !== 201) throw new Error(`seed message ${i}: ${r.status} ${r.text}`);
  }
}
