import { ParleyHttpError, ParleyNetworkError } from './errors.js';

/** The part of `RequestInit` the SDK uses. */
export interface FetchInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
}

/** The part of `Response` the SDK uses. */
export interface FetchResponse {
  readonly status: number;
  readonly headers: { get(name: string): string | null };
  text(): Promise<string>;
}

/** `fetch`, or anything shaped like it (the global one is assignable). */
export type FetchLike = (url: string, init?: FetchInit) => Promise<FetchResponse>;

export interface RestClientOptions {
  /** Absolute base URL of the server, e.g. `https://chat.example.com`. */
  baseUrl: string;
  /** API token, sent as `Authorization: Token …`; without it the browser's session cookie is used. */
  token: string | null;
  fetch: FetchLike;
}

/** JSON over HTTP with the SDK's error classes: `ParleyHttpError` for statuses ≥ 400, `ParleyNetworkError` when no answer came. */
export class RestClient {
  constructor(private readonly o: RestClientOptions) {}

  async request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<{ status: number; body: T }> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.o.token) headers.authorization = `Token ${this.o.token}`;
    const init: FetchInit = { method, headers };
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    if (signal) init.signal = signal;
    let response: FetchResponse;
    let text: string;
    try {
      response = await this.o.fetch(new URL(path, this.o.baseUrl).href, init);
      text = await response.text();
    } catch (err) {
      // An abort is the caller's decision, not a network failure to retry.
      if (signal?.aborted) throw err;
      throw new ParleyNetworkError(err);
    }
    const parsed: unknown = text !== '' && (response.headers.get('content-type') ?? '').includes('json') ? safeJson(text) : text;
    if (response.status >= 400) throw new ParleyHttpError(response.status, parsed, `${method} ${path}: ${response.status} ${detailOf(parsed)}`);
    return { status: response.status, body: parsed as T };
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function detailOf(body: unknown): string {
  if (typeof body === 'object' && body !== null && 'detail' in body && typeof body.detail === 'string') return body.detail;
  return typeof body === 'string' ? body.slice(0, 200) : JSON.stringify(body).slice(0, 200);
}
