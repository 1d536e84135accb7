import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config/index.js';
import WebSocket from 'ws';

import { mkdtempSync } from 'node:fs';
const dir = mkdtempSync('/tmp/prof-');
const config = loadConfig({ cwd: dir, env: {}, overrides: { port: 0, host: '127.0.0.1', dataDir: dir, databaseUrl: process.env.DB ?? ':memory:', logLevel: 'silent' } });
const app = await buildApp({ config, logger: false });
const base = await app.listen();
const addr = { port: Number(new URL(base).port) };
const reg = async (u: string) => (await (await fetch(`${base}/auth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: u, password: 'pass-word-123' }) })).json()) as { token: string; user: { id: number } };
const users = [];
for (let i = 0; i < 10; i++) users.push(await reg(`user${i}`));
const h = { 'content-type': 'application/json', authorization: `Token ${users[0]!.token}` };
const chat = (await (await fetch(`${base}/messages/api/chats/`, { method: 'POST', headers: h, body: JSON.stringify({ chat_type: 'group', title: 'g', member_ids: users.slice(1).map((u) => u.user.id) }) })).json()) as { id: number };
let got = 0;
for (const u of users) {
  const ws = new WebSocket(`ws://127.0.0.1:${addr.port}/messages/ws/?token=${u.token}`);
  ws.on('message', () => got++);
  await new Promise((r) => ws.on('open', r));
}
const N = Number(process.env.N ?? 3000);
const t0 = performance.now();
const cpu0 = process.cpuUsage();
let inflight = 0;
let sent = 0;
await new Promise<void>((resolve) => {
  const pump = () => {
    while (inflight < 8 && sent < N) {
      inflight++;
      sent++;
      void fetch(`${base}/messages/api/chats/${chat.id}/messages/`, { method: 'POST', headers: h, body: JSON.stringify({ content: `hello ${sent}` }) }).then(async (r) => {
        await r.arrayBuffer();
        inflight--;
        if (sent >= N && inflight === 0) resolve();
        else pump();
      });
    }
  };
  pump();
});
const ms = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
console.log(`${N} sends in ${ms.toFixed(0)} ms = ${(N / ms * 1000).toFixed(0)}/s; cpu ${(cpu.user + cpu.system) / 1000 / N} ms/send (includes client fetch); frames ${got}`);
process.exit(0);
