import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { type CoreContext, loadVisibleMessage } from './context.js';
import { ParleyError, conflict, invalid, notFound, rateLimited } from './errors.js';
import type { FileStorage } from './ports/file-storage.js';
import type { AttachmentUsage, NewAttachment, Store } from './ports/store.js';
import { MEDIA_TYPES, type Attachment, type AttachmentId, type MediaType, type Message, type MessageId, type User, type UserId } from './types.js';
import { checkMetadata } from './metadata.js';

/** How many characters of a replied-to message a quote carries. */
export const QUOTE_LENGTH = 200;
/** Most attachments (uploads plus media by URL) on one message. */
export const MAX_ATTACHMENTS = 20;

/** The replied-to message, as a reply shows it. */
export interface ParentQuote {
  id: MessageId;
  senderId: UserId;
  sender: User | null;
  /** The first `QUOTE_LENGTH` characters; empty when the parent was deleted. */
  content: string;
  deleted: boolean;
}

/** What a message's presentation needs beyond the message row. */
export interface MessageExtras {
  /** Empty for soft-deleted messages: their files are hidden. */
  attachments: Attachment[];
  parent: ParentQuote | null;
}

/** Media given by URL (the `/messaging/` `extra_fields.media` items). */
export interface MediaInput {
  url: string;
  mediaType?: string | undefined;
  size?: number | undefined;
  mimeType?: string | undefined;
  name?: string | undefined;
  metadata?: Record<string, unknown> | null | undefined;
}

/** A file ready to be read, after the access checks. */
export interface OpenedFile {
  attachment: Attachment;
  /** The thumbnail was asked for (always webp). */
  thumb: boolean;
  key: string;
}

export interface AttachmentsOptions {
  files: FileStorage | null;
  /** Signs file URLs (HMAC-SHA256). */
  secret: string;
  urlTtlSeconds: number;
  /**
   * Where `GET …/files/{id}/` is served, prefixed to every file URL; the default is the REST
   * face's path. Absolute (on the configured `publicUrl`) when clients are elsewhere.
   */
  filesPath: string;
  /** Uploads never attached are removed after this long. */
  unattachedTtlHours: number;
}

export const NO_EXTRAS: MessageExtras = { attachments: [], parent: null };

/**
 * Attachments: loading them (and reply quotes) for presentation, signed file URLs, access
 * checks for downloads, and the lifecycle of stored files. Uploading itself (type sniffing,
 * thumbnails) lives with the storage adapters (`src/storage/uploads.ts`); the rules of sending
 * with attachments are in `Messages.send`.
 */
export class Attachments {
  constructor(
    private readonly ctx: CoreContext,
    readonly options: AttachmentsOptions,
  ) {}

  /**
   * Counts an upload against the actor's `uploadRateLimit` budget; over it, `rate_limited`.
   * Asked before the upload's body is read, so a refused upload costs nothing.
   */
  async admitUpload(actor: User): Promise<void> {
    const budget = await this.ctx.uploadLimiter?.consume(String(actor.id));
    if (budget && !budget.ok) throw rateLimited(budget.retryAfterMs, 'uploading files');
  }

  /** Attachments and reply quotes of a batch of messages, in two or three queries (see `loadExtras`). */
  async extrasOf(messages: readonly Message[], store: Store = this.ctx.store): Promise<Map<MessageId, MessageExtras>> {
    return loadExtras(store, messages);
  }

  /** Extras of one message. */
  async extrasOfOne(message: Message): Promise<MessageExtras> {
    return (await this.extrasOf([message])).get(message.id) ?? NO_EXTRAS;
  }

  /**
   * A short-lived URL of a stored file (or its thumbnail) that needs no credentials, so
   * `<img src>` works cross-origin; media given by URL keep their own URL. Null for a
   * thumbnail that does not exist.
   */
  url(a: Attachment, thumb = false): string | null {
    if (a.storageKey === null) return thumb ? null : a.externalUrl;
    if (thumb && a.thumbnailKey === null) return null;
    return this.signedUrl(a.id, thumb);
  }

  /** A fresh signed URL of a stored file by id (for re-signing logged events). */
  signedUrl(id: AttachmentId, thumb = false): string {
    const exp = Math.floor(this.ctx.now().getTime() / 1000) + this.options.urlTtlSeconds;
    const sig = this.sign(id, thumb, exp);
    return `${this.options.filesPath}${id}/?exp=${exp}&sig=${sig}${thumb ? '&thumb=1' : ''}`;
  }

  private sign(id: AttachmentId, thumb: boolean, exp: number): string {
    return createHmac('sha256', this.options.secret).update(`parley-file:${id}:${thumb ? 1 : 0}:${exp}`).digest('base64url');
  }

  /** Records an upload already in storage (unattached until a message is sent with it). */
  async register(input: NewAttachment): Promise<Attachment> {
    return this.ctx.store.insertAttachment(input);
  }

  /**
   * The checks before a download. A valid signature opens the file without credentials; an
   * expired one is 403 with a clear detail; otherwise an authenticated member of the message's
   * conversation (or the uploader, before it is attached) may read it. Everyone else, soft-
   * deleted messages and bad signatures: 404.
   */
  async open(actor: User | null, id: AttachmentId, q: { exp?: number | undefined; sig?: string | undefined; thumb: boolean }): Promise<OpenedFile> {
    const a = await this.ctx.store.getAttachment(id);
    const key = a ? (q.thumb ? a.thumbnailKey : a.storageKey) : null;
    if (!a || key === null) throw notFound();
    if (a.messageId !== null) {
      const m = await this.ctx.store.getMessage(a.messageId);
      if (!m || m.deletedAt !== null) throw notFound();
    }
    if (q.sig !== undefined && q.exp !== undefined) {
      const expected = Buffer.from(this.sign(id, q.thumb, q.exp));
      const given = Buffer.from(q.sig);
      if (expected.length === given.length && timingSafeEqual(expected, given)) {
        if (q.exp * 1000 < this.ctx.now().getTime()) throw new ParleyError('forbidden', 'This file link has expired; reload the message for a new one.');
        return { attachment: a, thumb: q.thumb, key };
      }
    }
    if (!actor) throw notFound();
    if (a.messageId === null) {
      if (a.uploaderId !== actor.id) throw notFound();
    } else {
      await loadVisibleMessage(this.ctx, actor, a.messageId);
    }
    return { attachment: a, thumb: q.thumb, key };
  }

  /** Deletes uploads never attached after `unattachedTtlHours`, files first. Returns how many. */
  async sweepUnattached(): Promise<number> {
    const before = new Date(this.ctx.now().getTime() - this.options.unattachedTtlHours * 3_600_000);
    let total = 0;
    for (;;) {
      const batch = await this.ctx.store.listUnattached(before, 200);
      if (batch.length === 0) return total;
      await removeStoredFiles(this.ctx, batch);
      total += await this.ctx.store.deleteAttachments(batch.map((a) => a.id));
      if (batch.length < 200) return total;
    }
  }

  /** Stored files, bytes, and how much of it is unattached. */
  async usage(): Promise<AttachmentUsage> {
    return this.ctx.store.attachmentUsage();
  }
}

/** Removes the stored files (and thumbnails) of attachments whose rows are going away. */
export async function removeStoredFiles(ctx: CoreContext, attachments: readonly Attachment[]): Promise<void> {
  const files = ctx.files;
  if (!files) return;
  const keys = attachments.flatMap((a) => [a.storageKey, a.thumbnailKey]).filter((k): k is string => k !== null);
  // A file that cannot be removed now (disk error) must not fail the delete the user asked for.
  await Promise.all(keys.map((k) => files.delete(k).catch(() => false)));
}

/** A throwaway signing secret (for a core built without one). */
export const randomSecret = (): string => randomBytes(32).toString('base64url');

/** A fresh storage key for an upload (`suffix` e.g. `.thumb.webp`). */
export function newStorageKey(now: Date, suffix = ''): string {
  const y = now.getUTCFullYear();
  const m = String(now.getUTCMonth() + 1).padStart(2, '0');
  return `${y}/${m}/${randomBytes(16).toString('hex')}${suffix}`;
}

/**
 * Copies the attachments of a forwarded message for the new one: stored files are copied (each
 * attachment row owns its files, so deleting one message never breaks another), media by URL
 * keep their URL.
 */
export async function copyForForward(ctx: CoreContext, source: readonly Attachment[]): Promise<Omit<NewAttachment, 'uploaderId' | 'now'>[]> {
  const out: Omit<NewAttachment, 'uploaderId' | 'now'>[] = [];
  const copy = async (key: string | null, suffix: string): Promise<string | null> => {
    if (key === null || !ctx.files) return null;
    const stream = await ctx.files.open(key);
    if (!stream) return null;
    const target = newStorageKey(ctx.now(), suffix);
    await ctx.files.put(target, stream, { maxBytes: Number.MAX_SAFE_INTEGER });
    return target;
  };
  for (const a of source) {
    const storageKey = await copy(a.storageKey, '');
    if (a.storageKey !== null && storageKey === null) continue; // the file is gone: nothing to forward
    out.push({
      storageKey,
      thumbnailKey: await copy(a.thumbnailKey, '.thumb.webp'),
      name: a.name,
      size: a.size,
      mimeType: a.mimeType,
      mediaType: a.mediaType,
      width: a.width,
      height: a.height,
      externalUrl: a.externalUrl,
      metadata: a.metadata,
    });
  }
  return out;
}

/** Checks media given by URL and turns it into attachment rows. */
export function mediaToAttachments(media: readonly MediaInput[]): Omit<NewAttachment, 'uploaderId' | 'now'>[] {
  return media.map((m, i) => {
    let url: URL;
    try {
      url = new URL(m.url);
    } catch {
      throw invalid('media', `Item ${i}: media_url must be an absolute http(s) URL.`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalid('media', `Item ${i}: media_url must be an http(s) URL.`);
    if (m.url.length > 2048) throw invalid('media', `Item ${i}: media_url is too long.`);
    const mediaType: MediaType = (MEDIA_TYPES as readonly string[]).includes(m.mediaType ?? '') ? (m.mediaType as MediaType) : 'file';
    const last = url.pathname.split('/').filter(Boolean).pop() ?? '';
    let decoded = last;
    try {
      decoded = decodeURIComponent(last);
    } catch {
      // keep the encoded segment
    }
    const name = m.name ?? (decoded || url.hostname);
    const size = m.size ?? 0;
    if (!Number.isInteger(size) || size < 0) throw invalid('media', `Item ${i}: file_size must be a non-negative integer.`);
    return {
      storageKey: null,
      thumbnailKey: null,
      name: name.slice(0, 255),
      size,
      mimeType: (m.mimeType ?? 'application/octet-stream').slice(0, 255),
      mediaType,
      width: null,
      height: null,
      externalUrl: url.toString(),
      // The same bounds as message metadata (size, depth), before anything serializes it.
      metadata: checkMetadata(undefined, 'message', m.metadata) ?? null,
    };
  });
}

type NewMedia = Omit<NewAttachment, 'uploaderId' | 'now'>;

/** The attachment side of a send, checked; files are copied only by `materialize`. */
export interface PreparedAttachments {
  /** The forwarded message's content, when the sender gave none. */
  content: string | null;
  /** How many attachments the message will have. */
  count: number;
  forwardedFromId: MessageId | null;
  attachmentIds: AttachmentId[];
  /** Media rows to insert with the message (media by URL, copies of forwarded files). */
  materialize(): Promise<NewMedia[]>;
  /** Removes copies made by `materialize` that ended up unused. */
  discard(media: readonly NewMedia[]): Promise<void>;
}

/**
 * Checks the relations and attachments of a send: a reply cannot be a forward (conflict, the
 * seed's integrity rule), the forwarded message must be visible to the sender (404 otherwise),
 * attachment ids must be the sender's own unattached uploads, media URLs must be http(s).
 */
export async function prepareAttachments(
  ctx: CoreContext,
  actor: User,
  input: {
    content: string;
    parentId?: MessageId | null | undefined;
    attachmentIds?: readonly AttachmentId[] | undefined;
    media?: readonly MediaInput[] | undefined;
    forwardedFromId?: MessageId | null | undefined;
    clientId?: string | null | undefined;
  },
): Promise<PreparedAttachments> {
  const forwardedFromId = input.forwardedFromId ?? null;
  if (forwardedFromId !== null && (input.parentId ?? null) !== null) {
    throw conflict('forwarded_from_id', 'A message cannot be both a reply and a forward.');
  }
  const attachmentIds = [...new Set(input.attachmentIds ?? [])];
  // A retried client_id finds its uploads attached already; the store answers it with the
  // original message (and checks ids itself, atomically, for a new one).
  const retryable = (input.clientId ?? null) !== null;
  for (const id of retryable ? [] : attachmentIds) {
    const a = await ctx.store.getAttachment(id);
    if (!a || a.uploaderId !== actor.id || a.messageId !== null) {
      throw invalid('attachment_ids', `Upload ${id} is not one of your unattached uploads.`);
    }
  }
  const urlMedia = mediaToAttachments(input.media ?? []);
  let content: string | null = null;
  let source: Attachment[] = [];
  if (forwardedFromId !== null) {
    const { message } = await loadVisibleMessage(ctx, actor, forwardedFromId);
    source = await ctx.store.listAttachments([message.id]);
    if (input.content.trim() === '') content = message.content;
  }
  const count = attachmentIds.length + urlMedia.length + source.length;
  if (count > MAX_ATTACHMENTS) throw invalid('attachment_ids', `Ensure a message has no more than ${MAX_ATTACHMENTS} attachments.`);
  return {
    content,
    count,
    forwardedFromId,
    attachmentIds,
    materialize: async () => [...urlMedia, ...(await copyForForward(ctx, source))],
    discard: async (media) => {
      const copies = media.filter((m) => m.storageKey !== null);
      if (copies.length === 0) return;
      await removeStoredFiles(
        ctx,
        copies.map((m) => ({ storageKey: m.storageKey, thumbnailKey: m.thumbnailKey }) as Attachment),
      );
    },
  };
}

/** Attachments and reply quotes of a batch of messages, in two or three queries, read through `store`. */
export async function loadExtras(store: Store, messages: readonly Message[]): Promise<Map<MessageId, MessageExtras>> {
  const out = new Map<MessageId, MessageExtras>();
  if (messages.length === 0) return out;
  const live = messages.filter((m) => m.deletedAt === null);
  const parentIds = [...new Set(live.flatMap((m) => (m.parentId !== null ? [m.parentId] : [])))];
  const [rows, parents] = await Promise.all([
    store.listAttachments(live.map((m) => m.id)),
    Promise.all(parentIds.map((id) => store.getMessage(id))),
  ]);
  const senders = new Map<UserId, User>();
  const senderIds = [...new Set(parents.flatMap((p) => (p ? [p.senderId] : [])))];
  if (senderIds.length > 0) for (const u of await store.getUsers(senderIds)) senders.set(u.id, u);
  const parentById = new Map<MessageId, ParentQuote>();
  for (const p of parents) {
    if (!p) continue;
    const deleted = p.deletedAt !== null;
    parentById.set(p.id, {
      id: p.id,
      senderId: p.senderId,
      sender: senders.get(p.senderId) ?? null,
      content: deleted ? '' : [...p.content].slice(0, QUOTE_LENGTH).join(''),
      deleted,
    });
  }
  for (const m of messages) {
    out.set(m.id, {
      attachments: m.deletedAt === null ? rows.filter((a) => a.messageId === m.id) : [],
      parent: m.deletedAt === null && m.parentId !== null ? (parentById.get(m.parentId) ?? null) : null,
    });
  }
  return out;
}
