import { mkdtempSync } from 'node:fs';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config/index.js';
const dir = mkdtempSync('/tmp/prof-');
const config = loadConfig({ cwd: dir, env: {}, overrides: { port: 0, host: '127.0.0.1', dataDir: dir, databaseUrl: process.env.DB ?? ':memory:', logLevel: 'silent' } });
const app = await buildApp({ config, logger: false });
const base = await app.listen();
const reg = async (u: string) => (await (await fetch(`${base}/auth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: u, password: 'pass-word-123' }) })).json()) as { token: string; user: { id: number } };
const users = [];
for (let i = 0; i < 10; i++) users.push(await reg(`user${i}`));
const h = { 'content-type': 'application/json', authorization: `Token ${users[0]!.token}` };
const chat = (await (await fetch(`${base}/messages/api/chats/`, { method: 'POST', headers: h, body: JSON.stringify({ chat_type: 'group', title: 'g', member_ids: users.slice(1).map((u) => u.user.id) }) })).json()) as { id: number };
const N = Number(process.env.N ?? 2000);
const conc = Number(process.env.C ?? 1);
const t0 = performance.now(); const c0 = process.cpuUsage();
let i = 0;
await Promise.all(Array.from({ length: conc }, async () => {
  while (i < N) { i++; const r = await app.http.inject({ method: 'POST', url: `/messages/api/chats/${chat.id}/messages/`, headers: h, payload: { content: `hi ${i}` } }); if (r.statusCode !== 201) throw new Error(r.body); }
}));
const ms = performance.now() - t0; const c = process.cpuUsage(c0);
console.log(`C=${conc}: ${(N / ms * 1000).toFixed(0)} sends/s, cpu ${((c.user + c.system) / 1000 / N).toFixed(3)} ms/send, wall ${(ms / N).toFixed(3)} ms/send`);
await app.close(); process.exit(0);
