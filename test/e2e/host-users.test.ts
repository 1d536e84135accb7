import type { IncomingMessage } from 'node:http';
import { type CryptoKey, type JWTPayload, SignJWT, exportJWK, exportSPKI, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { HostIdentity } from '../../src/index.js';
import { type PublicServer, startParley } from './harness.js';
import { Peer } from './messaging-client.js';

/**
 * Users from the host application (docs/extending/host-users.md), through the public API only:
 * a host `authenticate` function, host-issued JWTs (HS256, RS256, ES256), `builtInAccounts:
 * false`, and a user directory answering user search from the host's own "database".
 */

const SECRET = 'a-shared-secret-between-host-and-parley-0123456789';
const wsBase = (url: string) => url.replace(/^http/, 'ws');

/** Opens a WebSocket with optional headers; resolves once open, with a frame collector. */
function openSocket(url: string, headers: Record<string, string> = {}): Promise<Peer> {
  const ws = new WebSocket(url, { headers });
  const peer = new Peer(ws);
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(peer));
    ws.once('error', reject);
  });
}

/** A `/messaging/` session's `session.ready` user id. */
async function messagingUserId(url: string, headers: Record<string, string> = {}): Promise<number> {
  const peer = await openSocket(url, headers);
  try {
    return (await peer.event('session.ready')).data.user_id as number;
  } finally {
    peer.close();
  }
}

/** A `/messages/ws/` connection's `ready` user id. */
async function liveUserId(url: string, headers: Record<string, string> = {}): Promise<number> {
  const peer = await openSocket(url, headers);
  try {
    return (await peer.next((f) => f.type === 'ready', 'ready')).user_id as number;
  } finally {
    peer.close();
  }
}

async function closeCode(url: string): Promise<number> {
  const peer = await openSocket(url);
  return (await peer.closed).code;
}

const hs256 = (claims: JWTPayload, opts: { secret?: string; exp?: number | string; aud?: string; iss?: string } = {}) => {
  const jwt = new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuedAt().setExpirationTime(opts.exp ?? '10m');
  if (opts.aud) jwt.setAudience(opts.aud);
  if (opts.iss) jwt.setIssuer(opts.iss);
  return jwt.sign(new TextEncoder().encode(opts.secret ?? SECRET));
};

const signWith = (alg: 'RS256' | 'ES256', key: CryptoKey, claims: JWTPayload) =>
  new SignJWT(claims).setProtectedHeader({ alg }).setExpirationTime('10m').sign(key);

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('host authenticate(request)', () => {
  /** The host's sessions: cookie `host_sid` (or header `x-host-user`) → who it is. */
  const sessions = new Map<string, HostIdentity>();
  /** The host's user table, which the directory searches and looks up. */
  const hostUsers = new Map<string, HostIdentity>();
  const lookups: string[][] = [];
  let s: PublicServer;

  const sid = (req: IncomingMessage): string | undefined =>
    /(?:^|;\s*)host_sid=([^;]+)/.exec(req.headers.cookie ?? '')?.[1] ?? (req.headers['x-host-user'] as string | undefined);
  const cookie = (id: string) => ({ cookie: `host_sid=${id}` });

  beforeAll(async () => {
    s = await startParley({
      authenticate: (req) => {
        const id = sid(req);
        if (id === 'explode') throw new Error('host session store is down');
        if (id === 'broken') return { id: '' };
        return id === undefined ? null : (sessions.get(id) ?? null);
      },
      directory: {
        async search(query, limit) {
          const q = query.toLowerCase();
          return [...hostUsers.values()].filter((u) => `${u.username} ${u.displayName}`.toLowerCase().includes(q)).slice(0, limit);
        },
        async lookup(ids) {
          lookups.push(ids);
          return ids.flatMap((id) => (hostUsers.has(id) ? [hostUsers.get(id) as HostIdentity] : []));
        },
      },
    });
  });
  afterAll(() => s.close());

  it('signs REST requests in from a host cookie or header and provisions the user once', async () => {
    sessions.set('s-ada', { id: 'u-ada', username: 'ada', displayName: 'Ada L.', email: 'ada@host.test' });
    const me = await s.anon.get('/auth/me', cookie('s-ada'));
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ username: 'ada', display_name: 'Ada L.', email: 'ada@host.test' });
    // The same external id is the same Parley user, by cookie or by header.
    expect((await s.anon.get('/auth/me', cookie('s-ada'))).body.id).toBe(me.body.id);
    expect((await s.anon.get('/auth/me', { 'x-host-user': 's-ada' })).body.id).toBe(me.body.id);
    expect((await s.parley.core.users.byExternalIds(['u-ada'])).get('u-ada')?.id).toBe(me.body.id);
  });

  it('keeps the profile current when the host changes it', async () => {
    sessions.set('s-bo', { id: 'u-bo', username: 'bo', displayName: 'Bo', avatarUrl: 'https://cdn.host.test/bo.png' });
    const first = await s.anon.get('/auth/me', cookie('s-bo'));
    sessions.set('s-bo', { id: 'u-bo', username: 'bo.renamed', displayName: 'Bo Renamed', avatarUrl: null });
    const later = await s.anon.get('/auth/me', cookie('s-bo'));
    expect(later.body).toMatchObject({ id: first.body.id, username: 'bo.renamed', display_name: 'Bo Renamed' });
    expect(later.body.avatar_url).not.toBe('https://cdn.host.test/bo.png');
  });

  it('gives a host user whose username a local account has a suffixed one', async () => {
    const local = await s.user('cleo');
    sessions.set('s-cleo', { id: 'u-cleo', username: 'cleo' });
    const me = await s.anon.get('/auth/me', cookie('s-cleo'));
    expect(me.body.username).toBe('cleo_2');
    expect(me.body.id).not.toBe(local.id);
  });

  it('refuses a host user Parley has deactivated', async () => {
    sessions.set('s-gus', { id: 'u-gus', username: 'gus' });
    const gus = await s.anon.get('/auth/me', cookie('s-gus'));
    await s.parley.core.store.updateUser(gus.body.id, { isActive: false });
    const r = await s.anon.get('/auth/me', cookie('s-gus'));
    expect(r.status).toBe(401);
    expect(r.body).toEqual({ detail: 'User inactive or deleted.' });
  });

  it('falls through to built-in tokens when authenticate returns null', async () => {
    const local = await s.user('dora');
    expect((await local.client.get('/auth/me')).body.id).toBe(local.id);
    expect((await s.anon.get('/auth/me', cookie('nobody'))).status).toBe(401);
  });

  it('answers 401 (not 500) when authenticate throws or returns an unusable identity', async () => {
    for (const id of ['explode', 'broken']) {
      const r = await s.anon.get('/messages/api/chats/', cookie(id));
      expect(r.status).toBe(401);
      expect(r.body).toEqual({ detail: 'Authentication failed.' });
    }
  });

  it('signs in /messaging/ and /messages/ws/ upgrades, long-poll and SSE with the host cookie', async () => {
    sessions.set('s-eve', { id: 'u-eve', username: 'eve' });
    const me = (await s.anon.get('/auth/me', cookie('s-eve'))).body.id as number;
    expect(await messagingUserId(`${wsBase(s.url)}/messaging/`, cookie('s-eve'))).toBe(me);
    expect(await liveUserId(`${wsBase(s.url)}/messages/ws/`, { 'x-host-user': 's-eve' })).toBe(me);
    expect(await closeCode(`${wsBase(s.url)}/messaging/`)).toBe(4001);

    const poll = await s.anon.get('/messages/api/events/?timeout=0', cookie('s-eve'));
    expect(poll.status).toBe(200);
    expect(typeof poll.body.cursor).toBe('string');

    const ac = new AbortController();
    const sse = await fetch(`${s.url}/messages/api/events/`, { headers: { accept: 'text/event-stream', ...cookie('s-eve') }, signal: ac.signal });
    expect(sse.status).toBe(200);
    const reader = (sse.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    while (!text.includes('"ready"')) text += new TextDecoder().decode((await reader.read()).value);
    expect(text).toContain(`"user_id":${me}`);
    ac.abort();
  });

  it('answers user search from the host directory and DMs between host users over REST', async () => {
    hostUsers.set('u-zoe', { id: 'u-zoe', username: 'zoe', displayName: 'Zoë Host' });
    hostUsers.set('u-zack', { id: 'u-zack', username: 'zack', displayName: 'Zack Host' });
    hostUsers.set('u-yan', { id: 'u-yan', username: 'yan', displayName: 'Yan' });
    sessions.set('s-zoe', hostUsers.get('u-zoe') as HostIdentity);
    sessions.set('s-zack', hostUsers.get('u-zack') as HostIdentity);

    // Zack has never been seen by Parley: the directory finds him, and he is provisioned.
    const found = await s.anon.get('/messages/api/users/search/?q=host', cookie('s-zoe'));
    expect(found.status).toBe(200);
    const results = (Array.isArray(found.body) ? found.body : found.body.results) as { id: number; username: string }[];
    // Zoë searching does not find herself.
    expect(results.map((u) => u.username)).toEqual(['zack']);
    const zack = results[0] as { id: number };

    const dm = await s.anon.post('/messages/api/chats/', { chat_type: 'dm', member_ids: [zack.id] }, cookie('s-zoe'));
    expect(dm.status).toBe(201);
    const sent = await s.anon.post(`/messages/api/chats/${dm.body.id}/messages/`, { content: 'hi Zack, from the host' }, cookie('s-zoe'));
    expect(sent.status).toBe(201);

    // Zack signs in later through the host: he is the same Parley user and sees the message.
    expect((await s.anon.get('/auth/me', cookie('s-zack'))).body.id).toBe(zack.id);
    const history = await s.anon.get(`/messages/api/chats/${dm.body.id}/messages/`, cookie('s-zack'));
    expect(history.status).toBe(200);
    expect(JSON.stringify(history.body)).toContain('hi Zack, from the host');

    // Lookups by host id ask the directory only for ids Parley has not seen.
    lookups.length = 0;
    const byId = await s.parley.core.users.byExternalIds(['u-zack', 'u-yan', 'u-unknown']);
    expect(byId.get('u-zack')?.id).toBe(zack.id);
    expect(byId.get('u-yan')?.username).toBe('yan');
    expect(byId.has('u-unknown')).toBe(false);
    expect(lookups).toEqual([['u-yan', 'u-unknown']]);
  });
});

describe('host-issued JWTs', () => {
  describe('HS256 with issuer and audience', () => {
    let s: PublicServer;
    beforeAll(async () => {
      s = await startParley({ jwt: { secret: SECRET, issuer: 'https://host.test', audience: 'parley' } });
    });
    afterAll(() => s.close());
    const ok = { iss: 'https://host.test', aud: 'parley' };

    it('maps the standard claims to a provisioned user, over REST and every socket', async () => {
      const token = await hs256({ sub: 'jwt-1', preferred_username: 'jules', name: 'Jules V', email: 'jules@host.test', picture: 'https://cdn.host.test/j.png' }, ok);
      const me = await s.anon.get('/auth/me', bearer(token));
      expect(me.status).toBe(200);
      expect(me.body).toMatchObject({ username: 'jules', display_name: 'Jules V', email: 'jules@host.test', avatar_url: 'https://cdn.host.test/j.png' });
      // A fresh token for the same subject is the same user.
      const again = await hs256({ sub: 'jwt-1', preferred_username: 'jules' }, ok);
      expect((await s.anon.get('/auth/me', bearer(again))).body.id).toBe(me.body.id);

      expect(await messagingUserId(`${wsBase(s.url)}/messaging/?token=${token}`)).toBe(me.body.id);
      expect(await messagingUserId(`${wsBase(s.url)}/messaging/`, bearer(token))).toBe(me.body.id);
      expect(await liveUserId(`${wsBase(s.url)}/messages/ws/?token=${token}`)).toBe(me.body.id);
      // An EventSource cannot send headers: the event stream takes `?token=` too.
      const poll = await s.anon.get(`/messages/api/events/?timeout=0&token=${token}`);
      expect(poll.status).toBe(200);
    });

    it('refuses expired, badly signed, wrong-audience and wrong-issuer tokens with a clear 401', async () => {
      const cases: [string, Promise<string>][] = [
        ['Token has expired.', hs256({ sub: 'jwt-2' }, { ...ok, exp: Math.floor(Date.now() / 1000) - 120 })],
        ['Token signature is invalid.', hs256({ sub: 'jwt-2' }, { ...ok, secret: `${SECRET}-not-the-same` })],
        ['Token audience is not accepted.', hs256({ sub: 'jwt-2' }, { ...ok, aud: 'someone-else' })],
        ['Token issuer is not accepted.', hs256({ sub: 'jwt-2' }, { ...ok, iss: 'https://evil.test' })],
        ['Token has no "sub" claim.', hs256({ name: 'nobody' }, ok)],
      ];
      for (const [detail, pending] of cases) {
        const token = await pending;
        const r = await s.anon.get('/messages/api/chats/', bearer(token));
        expect(r.status, detail).toBe(401);
        expect(r.body).toEqual({ detail });
        expect(await closeCode(`${wsBase(s.url)}/messaging/?token=${token}`)).toBe(4001);
      }
      expect((await s.anon.get('/messages/api/chats/', bearer('not.a.jwt'))).body).toEqual({ detail: 'Token is malformed.' });
    });

    it('still accepts built-in tokens next to JWTs', async () => {
      const local = await s.user('kai');
      expect((await local.client.get('/auth/me')).body.id).toBe(local.id);
    });
  });

  it('verifies RS256 with a PEM public key, and refuses other algorithms', async () => {
    const rsa = await generateKeyPair('RS256', { extractable: true });
    const ec = await generateKeyPair('ES256');
    const s = await startParley({ jwt: { publicKey: await exportSPKI(rsa.publicKey) } });
    try {
      const token = await signWith('RS256', rsa.privateKey, { sub: 'rsa-1', preferred_username: 'rosa' });
      expect((await s.anon.get('/auth/me', bearer(token))).body).toMatchObject({ username: 'rosa' });
      const wrongAlg = await signWith('ES256', ec.privateKey, { sub: 'rsa-1' });
      expect((await s.anon.get('/auth/me', bearer(wrongAlg))).body).toEqual({ detail: 'Token algorithm is not accepted.' });
      const hmac = await hs256({ sub: 'rsa-1' });
      expect((await s.anon.get('/auth/me', bearer(hmac))).status).toBe(401);
    } finally {
      await s.close();
    }
  });

  it('verifies ES256 with a JWK public key and custom claim names', async () => {
    const ec = await generateKeyPair('ES256', { extractable: true });
    const other = await generateKeyPair('ES256');
    const s = await startParley({
      jwt: { publicKey: JSON.stringify(await exportJWK(ec.publicKey)), claims: { id: 'uid', username: 'login', displayName: 'profile.full_name' } },
    });
    try {
      const token = await signWith('ES256', ec.privateKey, { uid: 4242, login: 'emil', profile: { full_name: 'Emil E' } });
      const me = await s.anon.get('/auth/me', bearer(token));
      expect(me.body).toMatchObject({ username: 'emil', display_name: 'Emil E' });
      expect(await messagingUserId(`${wsBase(s.url)}/messaging/?token=${token}`)).toBe(me.body.id);
      expect((await s.parley.core.users.byExternalIds(['4242'])).get('4242')?.id).toBe(me.body.id);
      const forged = await signWith('ES256', other.privateKey, { uid: 4242, login: 'emil' });
      expect((await s.anon.get('/auth/me', bearer(forged))).body).toEqual({ detail: 'Token signature is invalid.' });
      expect(await closeCode(`${wsBase(s.url)}/messaging/?token=${forged}`)).toBe(4001);
    } finally {
      await s.close();
    }
  });
});

describe('builtInAccounts: false', () => {
  let s: PublicServer;
  beforeAll(async () => {
    s = await startParley({
      builtInAccounts: false,
      jwt: { secret: SECRET },
      authenticate: (req) => (req.headers['x-host-user'] === 'ivy' ? { id: 'u-ivy', username: 'ivy' } : null),
    });
  });
  afterAll(() => s.close());

  it('turns off registration, login, Parley tokens and the sign-up page', async () => {
    for (const path of ['/auth/register', '/auth/login']) {
      const r = await s.anon.post(path, { username: 'mallory', password: 'a-long-password' });
      expect(r.status, path).toBe(403);
      expect(r.body).toEqual({ detail: 'Built-in accounts are turned off: sign in through the host application.' });
    }
    expect((await s.anon.get('/')).status).toBe(404);
    // A Parley token (made through the library API) no longer signs anyone in.
    const user = await s.parley.accounts.createUser({ username: 'legacy', password: null });
    const token = await s.parley.accounts.issueToken(user, 'api');
    expect((await s.anon.get('/auth/me', { authorization: `Token ${token}` })).status).toBe(401);
    expect(await closeCode(`${wsBase(s.url)}/messaging/?token=${token}`)).toBe(4001);
  });

  it('signs users in through authenticate and JWTs only', async () => {
    const ivy = await s.anon.get('/auth/me', { 'x-host-user': 'ivy' });
    expect(ivy.body).toMatchObject({ username: 'ivy' });
    const token = await hs256({ sub: 'u-jo', preferred_username: 'jo' });
    const jo = await s.anon.get('/auth/me', bearer(token));
    expect(jo.body).toMatchObject({ username: 'jo' });
    // Two host users can talk: Ivy (host header) opens a DM with Jo (JWT), Jo reads it.
    const dm = await s.anon.post('/messages/api/chats/', { chat_type: 'dm', member_ids: [jo.body.id] }, { 'x-host-user': 'ivy' });
    expect(dm.status).toBe(201);
    await s.anon.post(`/messages/api/chats/${dm.body.id}/messages/`, { content: 'hello jo' }, { 'x-host-user': 'ivy' });
    const inbox = await s.anon.get('/api/dm/conversations/', bearer(token));
    expect(inbox.body.results.map((u: { username: string }) => u.username)).toEqual(['ivy']);
    const thread = await s.anon.get(`/api/dm/conversations/${ivy.body.id}/`, bearer(token));
    expect(thread.status).toBe(200);
    expect(JSON.stringify(thread.body)).toContain('hello jo');
  });
});
