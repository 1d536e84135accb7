import { afterAll, beforeAll, expect, it } from 'vitest';
import WebSocket from 'ws';
import { Schemas } from '../../src/faces/messaging/schemas.js';
import { type TestServer, type TestUser, startServer } from '../e2e/harness.js';
import type { Schema } from './schema-arbitrary.js';

/**
 * The non-member matrix: Mallory, signed in but in none of Alice's conversations, tries every
 * operation of the OpenAPI document (the route table as the server publishes it, so a new
 * endpoint is covered without editing this file), every `/messaging/` event, and listens on
 * every live transport (both WebSockets, SSE, long-poll) while Alice and Bob talk. Holds:
 * a request naming one of their conversations, messages or files is refused (401/403/404/400),
 * no response or frame carries their secrets, and nothing of theirs changed.
 */

const SECRET = { title: 'title-7f3a', message: 'message-7f3a', dm: 'dm-7f3a', file: 'file-7f3a', edited: 'edited-7f3a' };
const leaks = (text: string) => Object.values(SECRET).filter((v) => text.includes(v));

let s: TestServer;
let alice: TestUser;
let bob: TestUser;
let mallory: TestUser;
let chat: number;
let message: number;
let attachment: number;
let ownChat: number;

beforeAll(async () => {
  s = await startServer({ uploadRateLimit: null, sendRateLimit: null });
  alice = await s.user('alice');
  bob = await s.user('bob');
  mallory = await s.user('mallory');
  chat = (await alice.client.post('/messages/api/chats/', { chat_type: 'group', title: SECRET.title, member_ids: [bob.id] })).body.id;
  const form = new FormData();
  form.append('file', new Blob(['secret bytes']), `${SECRET.file}.txt`);
  attachment = ((await (await fetch(`${s.url}/messages/api/uploads/`, { method: 'POST', headers: { authorization: `Token ${alice.token}` }, body: form })).json()) as { id: number }).id;
  message = (await alice.client.post(`/messages/api/chats/${chat}/messages/`, { content: SECRET.message, attachment_ids: [attachment] })).body.id;
  expect((await alice.client.post(`/api/dm/send/${bob.id}/`, { content: SECRET.dm })).status).toBe(201);
  ownChat = (await mallory.client.post('/messages/api/chats/', { chat_type: 'group', title: 'mine', member_ids: [] })).body.id;
});
afterAll(() => s.close());

type Kind = 'chat' | 'message' | 'file' | 'user' | 'unknown';

/** What a parameter or field names, from its name (and the path, for a bare `id`). */
function kindOf(name: string, path: string): Kind {
  const n = name.toLowerCase();
  if (/chat|conversation|room/.test(n)) return 'chat';
  if (/message|parent|forward/.test(n)) return 'message';
  if (/attachment|file|upload/.test(n)) return 'file';
  if (/user|member|recipient|participant|subscriber/.test(n)) return 'user';
  if (n === 'id' && /files/.test(path)) return 'file';
  return 'unknown';
}

const privateId = (k: Kind): number[] =>
  k === 'chat' ? [chat] : k === 'message' ? [message] : k === 'file' ? [attachment] : k === 'user' ? [alice.id] : [chat, message, attachment, alice.id];

/** A body that gets past validation, every id in it pointing at Alice's things. */
function bodyFor(schema: Schema | undefined, resolve: (ref: string) => Schema | undefined, name = '', depth = 0): unknown {
  if (!schema || depth > 4) return undefined;
  if (schema.$ref) return bodyFor(resolve(schema.$ref), resolve, name, depth + 1);
  const alts = schema.anyOf ?? schema.oneOf;
  if (alts) return bodyFor(alts.find((a: Schema) => a.type !== 'null') ?? alts[0], resolve, name, depth + 1);
  if (schema.const !== undefined) return schema.const;
  if (schema.enum) return schema.enum[0];
  switch (Array.isArray(schema.type) ? schema.type[0] : schema.type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries<Schema>(schema.properties ?? {})) {
        const value = bodyFor(v, resolve, k, depth + 1);
        if (value !== undefined) out[k] = value;
      }
      return out;
    }
    case 'array': {
      const item = bodyFor(schema.items, resolve, name, depth + 1);
      return item === undefined ? [] : [item];
    }
    case 'integer':
    case 'number':
      return privateId(kindOf(name, ''))[0];
    case 'string':
      return /type|kind/.test(name) ? 'group' : schema.format === 'date-time' ? new Date().toISOString() : 'probe';
    case 'boolean':
      return true;
    default:
      return undefined;
  }
}

it('every operation of the route table, as a non-member: refused, and no secret in any answer', async () => {
  const doc = (await s.anon.get('/api/schema/')).body as { paths: Record<string, Record<string, any>>; components?: { schemas?: Record<string, Schema> } };
  const resolve = (ref: string) => doc.components?.schemas?.[ref.split('/').pop() ?? ''];
  const tried: string[] = [];
  const wrong: string[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [m, op] of Object.entries(methods)) {
      const method = m.toUpperCase();
      if (path === '/auth/logout') continue; // would only end Mallory's own session
      const params: { name: string; in: string }[] = (op.parameters ?? []).filter((p: { in: string }) => p.in === 'path');
      const kinds = params.map((p) => kindOf(p.name, path));
      // Every combination of Alice's ids for the path, plus Mallory's own chat with a body full of Alice's ids.
      const variants: Record<string, number>[] = [{}];
      for (const [i, p] of params.entries()) {
        const choices = privateId(kinds[i] as Kind);
        const grown: Record<string, number>[] = [];
        for (const v of variants) for (const c of choices) grown.push({ ...v, [p.name]: c });
        variants.splice(0, variants.length, ...grown);
      }
      if (kinds.includes('chat')) variants.push(Object.fromEntries(params.map((p, i) => [p.name, kinds[i] === 'chat' ? ownChat : privateId(kinds[i] as Kind)[0] as number])));
      const schema = op.requestBody?.content?.['application/json']?.schema as Schema | undefined;
      const multipart = !!op.requestBody?.content?.['multipart/form-data'];
      for (const values of variants) {
        const url = path.replace(/\{(\w+)\}/g, (_, name: string) => String(values[name]));
        const query = (op.parameters ?? []).some((p: { name: string }) => p.name === 'timeout') ? '?timeout=0' : '';
        let body: string | FormData | undefined;
        const headers: Record<string, string> = { authorization: `Token ${mallory.token}` };
        if (method !== 'GET' && method !== 'DELETE') {
          if (multipart) {
            body = new FormData();
            body.append('file', new Blob(['x']), 'x.txt');
          } else {
            body = JSON.stringify(bodyFor(schema, resolve) ?? {});
            headers['content-type'] = 'application/json';
          }
        }
        const r = await fetch(`${s.url}${url}${query}`, { method, headers, body });
        const text = await r.text();
        tried.push(`${method} ${url} → ${r.status}`);
        const names = Object.values(values).some((v) => v !== ownChat && v !== alice.id && [chat, message, attachment].includes(v));
        const namedKinds = kinds.filter((k) => k === 'chat' || k === 'message' || k === 'file');
        if (leaks(text).length) wrong.push(`${method} ${url}: leaks ${leaks(text)} (${r.status})`);
        if (names && namedKinds.length > 0 && !kinds.includes('unknown') && r.status < 400) wrong.push(`${method} ${url}: ${r.status}, expected a refusal`);
        if (r.status >= 500) wrong.push(`${method} ${url}: ${r.status}`);
      }
    }
  }
  // Nothing Mallory did reached Alice's things, or copied them into her own chat.
  const mine = await mallory.client.get(`/messages/api/chats/${ownChat}/messages/`);
  if (leaks(mine.text).length) wrong.push(`Mallory's own chat holds ${leaks(mine.text)}`);
  const history = await alice.client.get(`/messages/api/chats/${chat}/messages/`);
  expect(history.text).toContain(SECRET.message);
  const members = (await alice.client.get(`/messages/api/chats/${chat}/`)).body.members as { id: number }[];
  expect(members.map((m) => m.id).sort()).toEqual([alice.id, bob.id].sort());
  console.log(`authz-matrix: ${tried.length} HTTP requests over ${Object.keys(doc.paths).length} paths as a non-member; ${wrong.length} leaks or wrong answers`);
  expect(wrong).toEqual([]);
});

it('every /messaging/ event and every live transport, as a non-member: no secret reaches Mallory', async () => {
  const base = s.url.replace('http', 'ws');
  const frames: string[] = [];
  const open = (path: string) =>
    new Promise<WebSocket>((resolve, reject) => {
      const ws = new WebSocket(`${base}${path}?token=${mallory.token}`);
      ws.on('message', (d) => frames.push(`${path} ${d.toString()}`));
      ws.once('open', () => resolve(ws));
      ws.once('error', reject);
    });
  // Control: a member listening on the same transport does get them, so the window was live.
  const control: string[] = [];
  const bobWs = new WebSocket(`${base}/messages/ws/?token=${bob.token}`);
  bobWs.on('message', (d) => control.push(d.toString()));
  await new Promise((r) => bobWs.once('open', r));
  const messaging = await open('/messaging/');
  const live = await open('/messages/ws/');
  const sse = new AbortController();
  const sseText = fetch(`${s.url}/messages/api/events/`, { headers: { authorization: `Token ${mallory.token}`, accept: 'text/event-stream' }, signal: sse.signal })
    .then(async (r) => {
      let text = '';
      const reader = r.body?.getReader();
      try {
        for (;;) {
          const chunk = await reader?.read();
          if (!chunk || chunk.done) break;
          text += new TextDecoder().decode(chunk.value);
        }
      } catch {
        /* aborted: the end of listening */
      }
      return text;
    })
    .catch(() => '');
  const poll = fetch(`${s.url}/messages/api/events/?timeout=5`, { headers: { authorization: `Token ${mallory.token}` } }).then((r) => r.text());

  // Mallory asks for Alice's things with every event the face knows.
  const resolveNone = () => undefined;
  for (const event_type of Object.keys(Schemas)) {
    const data = bodyFor((Schemas as Record<string, Schema>)[event_type], resolveNone) as Record<string, unknown>;
    messaging.send(JSON.stringify({ event_type, data }));
  }
  live.send(JSON.stringify({ type: 'typing', chat_id: chat, is_typing: true }));
  // Meanwhile Alice and Bob talk, edit, react and type.
  const sent = await alice.client.post(`/messages/api/chats/${chat}/messages/`, { content: SECRET.message });
  await alice.client.patch(`/messages/api/messages/${sent.body.id}/`, { content: SECRET.edited });
  await bob.client.post(`/messages/api/messages/${sent.body.id}/reactions/`, { reaction: '👍' });
  await alice.client.post(`/messages/api/chats/${chat}/typing/`, {});
  await bob.client.post(`/api/dm/send/${alice.id}/`, { content: SECRET.dm });
  await s.app.hub.flush();
  await new Promise((r) => setTimeout(r, 1000));
  sse.abort();
  const texts = [...frames, `sse ${await sseText}`, `long-poll ${await poll}`];
  messaging.close();
  live.close();
  bobWs.close();
  expect(control.join('\n')).toContain(SECRET.edited);
  const leaked = texts.filter((t) => leaks(t).length);
  console.log(`authz-matrix: ${Object.keys(Schemas).length} /messaging/ events sent, ${frames.length} WebSocket frames, SSE and long-poll read as a non-member; ${leaked.length} leaks`);
  expect(leaked).toEqual([]);
  // The events were refused, not ignored.
  expect(frames.filter((f) => f.startsWith('/messaging/ {"error"')).length).toBeGreaterThan(3);
});
