import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { type MessageReadSignal, type MessageSentSignal, type Parley, type ParleyHooks, ParleyError, createParley } from '../../src/index.js';
import { Client } from './harness.js';
import { Peer } from './messaging-client.js';

/** Lifecycle hooks through the public API (`createParley({ lifecycle })`) on a real server. */

const API = '/messages/api';
let cwd: string;
let parley: Parley;
let base: string;
const sent: MessageSentSignal[] = [];
const read: MessageReadSignal[] = [];
const created: number[] = [];

const lifecycle: ParleyHooks = {
  before: {
    'message.send': ({ content }) => {
      if (/\bveto\b/i.test(content)) throw new ParleyError('forbidden', 'This message is not allowed.');
      return { content: content.replace(/\bdarn\b/gi, '****') };
    },
  },
  after: {
    'message.created': ({ message }) => {
      created.push(message.id);
      throw new Error('a broken after-hook is only logged');
    },
    message_sent: (p) => void sent.push(p),
    message_read: (p) => void read.push(p),
  },
};

interface U {
  id: number;
  token: string;
  client: Client;
}

async function register(username: string): Promise<U> {
  const r = await new Client(base).post('/auth/register', { username, password: `pw-${username}-secret` });
  if (r.status !== 201) throw new Error(`register ${username}: ${r.status} ${r.text}`);
  return { id: r.body.user.id, token: r.body.token, client: new Client(base, r.body.token) };
}

function openPeer(token: string): Promise<Peer> {
  const ws = new WebSocket(`${base.replace(/^http/, 'ws')}/messaging/?token=${token}`);
  const peer = new Peer(ws);
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(peer));
    ws.once('error', reject);
  });
}

let ann: U;
let ben: U;
let chat: number;

beforeAll(async () => {
  cwd = mkdtempSync(join(tmpdir(), 'parley-hooks-'));
  parley = await createParley({ cwd, databaseUrl: ':memory:', logLevel: 'silent', lifecycle });
  base = await parley.listen({ port: 0, host: '127.0.0.1' });
  ann = await register('ann');
  ben = await register('ben');
  const r = await ann.client.post(`${API}/chats/`, { chat_type: 'dm', member_ids: [ben.id] });
  expect(r.status).toBe(201);
  chat = r.body.id;
});
afterAll(async () => {
  await parley?.close();
  rmSync(cwd, { recursive: true, force: true });
});

describe('before-hooks', () => {
  it('rewrite a REST send (profanity filter); a failing after-hook does not fail it', async () => {
    const r = await ann.client.post(`${API}/chats/${chat}/messages/`, { content: 'Darn, it works' });
    expect(r.status).toBe(201);
    expect(r.body.content).toBe('****, it works');
    const history = await ben.client.get(`${API}/chats/${chat}/messages/`);
    expect(JSON.stringify(history.body)).toContain('****, it works');
    expect(JSON.stringify(history.body)).not.toContain('Darn');
    expect(created).toContain(r.body.id);
  });

  it('veto a REST send with 403; nothing is stored', async () => {
    const r = await ann.client.post(`${API}/chats/${chat}/messages/`, { content: 'please veto this' });
    expect(r.status).toBe(403);
    expect(JSON.stringify(r.body)).toContain('This message is not allowed.');
    const history = await ben.client.get(`${API}/chats/${chat}/messages/`);
    expect(JSON.stringify(history.body)).not.toContain('veto');
  });

  it('veto a /messaging/ send with error 4002', async () => {
    const peer = await openPeer(ann.token);
    try {
      await peer.event('session.ready');
      const error = await peer.fail('message.send', { room_id: chat, content: 'veto over the socket' });
      expect(error.code).toBe(4002);
      // An allowed send still goes through, rewritten.
      peer.send('message.send', { room_id: chat, content: 'darn socket' });
      const f = await peer.event('message.dispatch');
      expect(f.data.content).toBe('**** socket');
    } finally {
      peer.close();
    }
  });
});

describe('after-hooks: drf-directmessages signals', () => {
  it('a /api/dm/ send fires message_sent with from_user and to; reading fires message_read', async () => {
    sent.length = 0;
    read.length = 0;
    const r = await ben.client.post(`/api/dm/send/${ann.id}/`, { content: 'hi ann, darn' });
    expect(r.status).toBe(201);
    await vi.waitFor(() => expect(sent).toHaveLength(1));
    expect(sent[0]?.from_user).toMatchObject({ id: ben.id, username: 'ben' });
    expect(sent[0]?.to).toMatchObject({ id: ann.id, username: 'ann' });
    expect(sent[0]?.message.content).toBe('hi ann, ****');

    // Reading the conversation (auto-read) marks ben's message read: from_user ben, to ann.
    const list = await ann.client.get(`/api/dm/conversations/${ben.id}/`);
    expect(list.status).toBe(200);
    await vi.waitFor(() => expect(read).toHaveLength(1));
    expect(read[0]?.from_user).toMatchObject({ id: ben.id });
    expect(read[0]?.to).toMatchObject({ id: ann.id });
    expect(read[0]?.messages.map((m) => m.content)).toEqual(['hi ann, ****']);
  });

  it('a vetoed /api/dm/ send is refused and fires nothing', async () => {
    sent.length = 0;
    const r = await ben.client.post(`/api/dm/send/${ann.id}/`, { content: 'veto' });
    expect(r.status).toBe(403);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(sent).toEqual([]);
  });
});
