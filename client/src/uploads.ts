import { ParleyHttpError, ParleyNetworkError } from './errors.js';

/** What an attachment is, decided by the server from the file's bytes (not its name). */
export type MediaType = 'image' | 'video' | 'audio' | 'file';

/**
 * An uploaded file, as `POST /messages/api/uploads/` answers and as messages carry it in
 * `attachments`. `url` and `thumbnail_url` are short-lived signed URLs, usable directly in
 * `<img src>` or a download link; fetch the message again for fresh ones.
 */
export interface WireAttachment {
  id: number;
  name: string;
  /** Bytes. */
  size: number;
  mime_type: string;
  media_type: MediaType;
  /** Pixel size of images (and videos when known); null otherwise. */
  width: number | null;
  height: number | null;
  /** Null only when the server cannot serve the file (e.g. media given by URL that is gone). */
  url: string | null;
  /** A small preview of an image; null for other files. */
  thumbnail_url: string | null;
  created_at?: string;
}

/** The message a reply answers, as much of it as a quote needs. */
export interface WireParent {
  id: number;
  sender: { id: number; username: string; display_name: string };
  content: string;
  deleted: boolean;
}

/**
 * The fields of a message about its files and relations. Every message of the REST API and of
 * the live `new_message` / `message_updated` events has them; they are optional here so the
 * SDK also reads servers that predate attachments.
 */
export interface MessageRelations {
  attachments?: WireAttachment[];
  /** The message this one replies to. */
  parent_message_id?: number | null;
  /** The message this one is a forward of. */
  forwarded_from_id?: number | null;
  /** A quote of the parent of a reply; null for other messages. */
  parent?: WireParent | null;
}

/** A file to upload: a browser `File` (its `name` is used), or any `Blob` with an optional name. */
export type UploadBlob = Blob & { name?: string };

export interface UploadOptions {
  /**
   * Called as the bytes go out with the bytes sent and the total (in browsers, from
   * `XMLHttpRequest`'s upload progress; in Node 20, once, when the upload is done).
   */
  onProgress?: (progress: { loaded: number; total: number }) => void;
  /** Cancels the upload; the promise rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** The part of `XMLHttpRequest` the upload uses (declared here: the SDK also compiles without the DOM library). */
interface XhrLike {
  open(method: string, url: string): void;
  setRequestHeader(name: string, value: string): void;
  getResponseHeader(name: string): string | null;
  send(body: FormData): void;
  abort(): void;
  withCredentials: boolean;
  readonly status: number;
  readonly responseText: string;
  readonly upload: { onprogress: ((e: { loaded: number; total: number; lengthComputable: boolean }) => void) | null };
  onload: (() => void) | null;
  onerror: (() => void) | null;
  onabort: (() => void) | null;
}
type XhrConstructor = new () => XhrLike;

export interface UploaderOptions {
  /** Absolute URL of `/messages/api/uploads/` on the server. */
  url: string;
  token: string | null;
}

/**
 * Uploads one file as `multipart/form-data` (part `file`). Uses `XMLHttpRequest` when there is
 * one, for upload progress (fetch cannot report it), with the same credentials as the rest of
 * the SDK: the token header, else the cookie (also cross-origin, as the widgets need). Without
 * it (Node 20) the global `fetch`: the SDK's `fetch` option speaks JSON strings only.
 */
export async function upload(o: UploaderOptions, file: UploadBlob, options: UploadOptions = {}): Promise<WireAttachment> {
  const form = new FormData();
  form.append('file', file, file.name ?? 'file');
  const Xhr = (globalThis as { XMLHttpRequest?: XhrConstructor }).XMLHttpRequest;
  if (Xhr) return uploadWithXhr(Xhr, o, form, options);
  options.signal?.throwIfAborted();
  const headers: Record<string, string> = { accept: 'application/json' };
  if (o.token) headers.authorization = `Token ${o.token}`;
  let status: number;
  let text: string;
  let contentType: string;
  try {
    const r = await fetch(o.url, { method: 'POST', headers, body: form, ...(options.signal ? { signal: options.signal } : {}) });
    status = r.status;
    contentType = r.headers.get('content-type') ?? '';
    text = await r.text();
  } catch (err) {
    if (options.signal?.aborted) throw err;
    throw new ParleyNetworkError(err);
  }
  const result = settle(status, contentType, text);
  options.onProgress?.({ loaded: file.size, total: file.size });
  return result;
}

function uploadWithXhr(Xhr: XhrConstructor, o: UploaderOptions, form: FormData, options: UploadOptions): Promise<WireAttachment> {
  return new Promise((resolve, reject) => {
    const signal = options.signal;
    if (signal?.aborted) return reject(signal.reason as Error);
    const xhr = new Xhr();
    xhr.open('POST', o.url);
    xhr.setRequestHeader('accept', 'application/json');
    if (o.token) xhr.setRequestHeader('authorization', `Token ${o.token}`);
    // Without a token the session cookie is the credential; cross-origin it is only sent when asked for.
    else xhr.withCredentials = true;
    const onAbort = () => xhr.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    const done = () => signal?.removeEventListener('abort', onAbort);
    if (options.onProgress) {
      const report = options.onProgress;
      xhr.upload.onprogress = (e) => {
        if (e.lengthComputable) report({ loaded: e.loaded, total: e.total });
      };
    }
    xhr.onload = () => {
      done();
      try {
        resolve(settle(xhr.status, xhr.getResponseHeader('content-type') ?? '', xhr.responseText));
      } catch (err) {
        reject(err);
      }
    };
    xhr.onerror = () => {
      done();
      reject(new ParleyNetworkError(new Error('upload failed')));
    };
    xhr.onabort = () => {
      done();
      reject((signal?.reason as Error | undefined) ?? new Error('upload aborted'));
    };
    xhr.send(form);
  });
}

function settle(status: number, contentType: string, text: string): WireAttachment {
  let body: unknown = text;
  if (text !== '' && contentType.includes('json')) {
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  }
  if (status >= 400) {
    const detail = typeof body === 'object' && body !== null && 'detail' in body && typeof body.detail === 'string' ? body.detail : String(text).slice(0, 200);
    throw new ParleyHttpError(status, body, `POST /messages/api/uploads/: ${status} ${detail}`);
  }
  return body as WireAttachment;
}
