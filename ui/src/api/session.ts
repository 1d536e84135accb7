import { ParleyClient } from '../../../client/src/index.js';
import { ChatApi } from './chat-api.js';
import type { UserDetail } from './types.js';

/** A connected SDK client, the REST helpers over it, and the signed-in user (null when signed out). */
export interface Session {
  client: ParleyClient;
  api: ChatApi;
  me: UserDetail | null;
  baseUrl: string;
}

const sessions = new Map<string, Promise<Session>>();

/**
 * The session for a server, shared by every element of the page that talks to it (one socket
 * for the page and all its widgets). Requests carry the browser's cookie, also cross-origin.
 */
export function sessionFor(baseUrl: string): Promise<Session> {
  const key = new URL(baseUrl, location.href).origin;
  let s = sessions.get(key);
  if (!s) {
    s = open(key);
    sessions.set(key, s);
  }
  return s;
}

async function open(baseUrl: string): Promise<Session> {
  const crossOrigin = baseUrl !== location.origin;
  const client = new ParleyClient({
    baseUrl,
    // Always our own wrapper: the SDK calls `options.fetch` as a method of an object, and a bare
    // `window.fetch` called that way throws "Illegal invocation" in browsers. Cross-origin, the
    // cookie has to be asked for (`credentials: 'include'`).
    fetch: (url, init) => fetch(url, crossOrigin ? { ...init, credentials: 'include' } : init),
  });
  const api = new ChatApi(client);
  let me: UserDetail | null = null;
  try {
    me = await api.me();
  } catch {
    me = null;
  }
  if (me) void client.connect();
  return { client, api, me, baseUrl };
}
