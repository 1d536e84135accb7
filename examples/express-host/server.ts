/**
 * An Express 5 app with its own login that embeds Parley.
 *
 * The host owns the users: `POST /login` checks them against its own list and keeps a
 * session of its own (`host_sid` cookie). On every login it makes sure the user also exists in
 * Parley (without a Parley password) and hands the browser a Parley session token as
 * Parley's `parley_session` cookie, so the page's widgets and API calls, and its WebSocket,
 * are signed in as the same person. Parley's own sign-up is off.
 *
 *   npx tsx examples/express-host/server.ts       # http://127.0.0.1:3000, log in as alice / wonderland
 */
import express, { type Request, type Response } from 'express';
import { randomBytes } from 'node:crypto';
import { type Server, createServer } from 'node:http';
import { type AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { type Parley, type ParleyOptions, SESSION_COOKIE, createParley } from '../../src/index.js';

/** The host's own accounts (a real app has a database and hashed passwords). */
const USERS: Record<string, { password: string; name: string }> = {
  alice: { password: 'wonderland', name: 'Alice Liddell' },
  bob: { password: 'builder', name: 'Bob the Builder' },
};

export interface Running {
  url: string;
  parley: Parley;
  server: Server;
}

let running: { parley: Parley; server: Server } | null = null;

/** Starts the app on `port` (0: any free port); resolves once it listens. */
export async function start(port = 3000, options: ParleyOptions = {}): Promise<Running> {
  const parley = await createParley({
    databaseUrl: ':memory:',
    registrationEnabled: false, // the host owns sign-up
    ...options,
  });

  /** host session id → username */
  const sessions = new Map<string, string>();
  const sessionUser = (req: Request): string | null => {
    const sid = cookies(req)['host_sid'];
    return sid ? (sessions.get(sid) ?? null) : null;
  };

  const app = express();
  // First, and before any body parser: Parley reads its own request bodies.
  app.use(parley.middleware);
  app.use(express.urlencoded({ extended: false }));

  app.get('/', (req, res) => {
    const user = sessionUser(req);
    res.type('html').send(user ? chatPage(USERS[user]?.name ?? user) : loginPage());
  });

  app.post('/login', async (req: Request, res: Response) => {
    const { username, password } = (req.body ?? {}) as { username?: string; password?: string };
    const known = username ? USERS[username] : undefined;
    if (!username || !known || known.password !== password) {
      res.status(401).type('html').send(loginPage('Wrong username or password.'));
      return;
    }
    const sid = randomBytes(24).toString('base64url');
    sessions.set(sid, username);
    // The same person in Parley: created on first login, then signed in with a session token.
    const parleyUser =
      (await parley.accounts.userByUsername(username)) ??
      (await parley.accounts.createUser({ username, password: null, displayName: known.name }));
    const token = await parley.accounts.issueToken(parleyUser, 'session');
    const cookie = { httpOnly: true, sameSite: 'lax', path: '/' } as const;
    res.cookie('host_sid', sid, cookie);
    res.cookie(SESSION_COOKIE, token, { ...cookie, maxAge: parley.config.sessionTtlDays * 86_400_000 });
    res.redirect(303, '/');
  });

  app.post('/logout', async (req, res) => {
    const c = cookies(req);
    if (c['host_sid']) sessions.delete(c['host_sid']);
    const token = c[SESSION_COOKIE];
    if (token) await parley.accounts.revoke(token);
    res.clearCookie('host_sid', { path: '/' }).clearCookie(SESSION_COOKIE, { path: '/' }).redirect(303, '/');
  });

  /** A page of the host's own, behind its own login. */
  app.get('/account', (req, res) => {
    const user = sessionUser(req);
    if (!user) {
      res.status(401).json({ error: 'not signed in' });
      return;
    }
    res.json({ username: user, name: USERS[user]?.name });
  });

  const server = createServer(app);
  // Parley's WebSocket paths (/messaging/, /messages/ws/); anything else is not served here.
  server.on('upgrade', (req, socket, head) => {
    if (!parley.handleUpgrade(req, socket, head)) socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  running = { parley, server };
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, parley, server };
}

/** Closes Parley (its sockets first), then the host's server. */
export async function stop(): Promise<void> {
  if (!running) return;
  const { parley, server } = running;
  running = null;
  await parley.close();
  await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
}

function cookies(req: Request): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out[part.slice(0, i).trim()] = decodeURIComponent(part.slice(i + 1).trim());
  }
  return out;
}

const layout = (body: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Host app</title></head>
<body>${body}</body></html>`;

function loginPage(error = ''): string {
  return layout(`<h1>Host app</h1>
<form method="post" action="/login">
  ${error ? `<p role="alert">${error}</p>` : ''}
  <label>Username <input name="username" autocomplete="username"></label>
  <label>Password <input name="password" type="password" autocomplete="current-password"></label>
  <button>Sign in</button>
</form>`);
}

function chatPage(name: string): string {
  // The widgets talk to Parley on this same origin; the parley_session cookie signs them in.
  return layout(`<h1>Hello, ${name.replace(/[<>&"]/g, '')}</h1>
<form method="post" action="/logout"><button>Sign out</button></form>
<script type="module" src="/static/parley-widgets.js"></script>
<section id="chat" aria-label="Messages"></section>`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { url } = await start(Number(process.env.PORT ?? 3000));
  console.log(`Host app with Parley on ${url} — sign in as alice / wonderland or bob / builder`);
  const shutdown = () => void stop().then(() => process.exit(0));
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}
