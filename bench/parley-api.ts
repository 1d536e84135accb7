/**
 * A call to Parley's REST face (`/messages/api`) as the user of an API token, for the benches'
 * set-up (rooms are made the way a user makes them, so every process learns of them the
 * normal way) and the REST case of `bench/realtime.ts`. The parsed answer; throws on a non-2xx.
 */
export async function parleyRest(base: string, token: string, method: string, path: string, body?: unknown): Promise<unknown> {
  const r = await fetch(`${base}/messages/api${path}`, {
    method,
    headers: { authorization: `Token ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await r.text();
  if (r.status >= 300) throw new Error(`${method} ${path}: HTTP ${r.status} ${text.slice(0, 200)}`);
  return text ? (JSON.parse(text) as unknown) : null;
}
