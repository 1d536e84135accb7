import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, startServer } from './harness.js';
import { connectWs } from './live-fixtures.js';

/** Prometheus text exposition: samples by `name{labels}`; throws on a line that is not valid. */
function parsePrometheus(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || /^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* /.test(line)) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? (-?[0-9.eE+-]+|NaN|[+-]Inf)$/.exec(line);
    if (!m) throw new Error(`not Prometheus text: ${line}`);
    samples.set(`${m[1]}${m[2] ?? ''}`, Number(m[3]));
  }
  return samples;
}

const TOKEN = 'metrics-token-for-tests';

describe('operations: /metrics, /readyz, shutdown', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer({ metricsToken: TOKEN });
  });
  afterAll(() => s.close());

  const scrape = async (): Promise<Map<string, number>> => {
    const r = await s.anon.get('/metrics', { authorization: `Bearer ${TOKEN}` });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return parsePrometheus(r.text);
  };

  it('/metrics needs the token, parses as Prometheus text, and moves when a message is sent', async () => {
    expect((await s.anon.get('/metrics')).status).toBe(401);
    expect((await s.anon.get('/metrics', { authorization: 'Bearer wrong-token-xxxxxxxx' })).status).toBe(401);

    const alice = await s.user('alice');
    const bob = await s.user('bob');
    const ws = await connectWs(s, bob);
    const before = await scrape();
    expect(before.get('parley_connections{transport="messages_ws"}')).toBe(1);
    expect(before.get('parley_broker_up')).toBe(1);
    expect(before.get('parley_event_log_lag')).toBe(0);

    const sent = await alice.client.post(`/api/dm/send/${bob.id}/`, { content: 'counted' });
    expect(sent.status).toBeLessThan(300);
    await ws.next('new_message', (f) => f.message.content === 'counted');
    const after = await scrape();
    const key = 'parley_events_total{type="message.created"}';
    expect(after.get(key) ?? 0).toBe((before.get(key) ?? 0) + 1);
    const latencyCount = [...after.entries()].filter(([k]) => k.startsWith('parley_delivery_latency_seconds_count')).reduce((n, [, v]) => n + v, 0);
    expect(latencyCount).toBeGreaterThan(0);
    const sends = [...after.entries()].filter(([k]) => /^parley_http_requests_total\{method="POST",route="\/api\/dm\/send\/:[a-z_]+\/",status="20\d"\}$/.test(k));
    expect(sends.map(([, v]) => v), [...after.keys()].filter((k) => k.includes("POST")).join("\n")).toEqual([1]);
    expect(after.has('parley_process_resident_memory_bytes')).toBe(true);
    await ws.close();
  });

  it('/metrics is not served unless configured', async () => {
    const plain = await startServer();
    try {
      expect((await plain.anon.get('/metrics')).status).toBe(404);
      expect((await plain.anon.get('/readyz')).body).toEqual({ status: 'ready' });
    } finally {
      await plain.close();
    }
  });

  it('/readyz answers ready beside /healthz', async () => {
    expect((await s.anon.get('/readyz')).body).toEqual({ status: 'ready' });
    expect((await s.anon.get('/healthz')).body).toEqual({ status: 'ok' });
  });

  it('shutting down tells sockets to reconnect (1012) and finishes', async () => {
    const other = await startServer();
    const carol = await other.user('carol');
    const ws = await connectWs(other, carol);
    await other.close();
    expect(await ws.closed).toBe(1012);
  });
});
