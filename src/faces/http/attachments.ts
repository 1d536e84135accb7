import { Type as T } from '@sinclair/typebox';
import type { Attachment, Core, MessageExtras, ParentQuote } from '../../core/index.js';
import type { WireAttachment, WireParent } from '../../protocol/attachments.js';
import { invalid } from '../../core/errors.js';
import { DateTime, Nullable } from './schemas.js';

export type { WireAttachment, WireParent };

/**
 * The attachment and reply-quote shapes every HTTP face shows (`/messages/api/`, `/api/dm/`,
 * and the `/messages/ws/`, long-poll and SSE frames). URLs are signed and short-lived: a
 * client refetches the message for fresh ones.
 */

export const MediaTypeSchema = T.Union([T.Literal('image'), T.Literal('video'), T.Literal('audio'), T.Literal('file')]);

export const AttachmentOut = T.Object({
  id: T.Integer(),
  name: T.String(),
  size: T.Integer(),
  mime_type: T.String(),
  media_type: MediaTypeSchema,
  width: Nullable(T.Integer()),
  height: Nullable(T.Integer()),
  url: Nullable(T.String({ description: 'Signed URL, valid for `uploads.urlTtlSeconds`; for media given by URL, that URL.' })),
  thumbnail_url: Nullable(T.String({ description: 'Signed URL of a webp thumbnail (images only).' })),
  created_at: DateTime,
});

export const ParentOut = Nullable(
  T.Object(
    {
      id: T.Integer(),
      sender: T.Object({ id: T.Integer(), username: T.String(), display_name: T.String() }),
      content: T.String({ description: 'The first 200 characters.' }),
      deleted: T.Boolean(),
    },
    { description: 'The replied-to message, for quoting; null when this is not a reply (or the parent is gone).' },
  ),
);

/** The fields attachments and relations add to every message presentation. */
export const MessageRelationsOut = {
  attachments: T.Array(AttachmentOut),
  parent_message_id: Nullable(T.Integer()),
  forwarded_from_id: Nullable(T.Integer()),
  parent: ParentOut,
};

export function attachmentOut(core: Core, a: Attachment): WireAttachment {
  return {
    id: a.id,
    name: a.name,
    size: a.size,
    mime_type: a.mimeType,
    media_type: a.mediaType,
    width: a.width,
    height: a.height,
    url: core.attachments.url(a),
    thumbnail_url: core.attachments.url(a, true),
    created_at: a.createdAt.toISOString(),
  };
}

export function parentOut(core: Core, p: ParentQuote | null): WireParent | null {
  if (!p) return null;
  return {
    id: p.id,
    sender: p.sender
      ? { id: p.sender.id, username: p.sender.username, display_name: core.users.displayName(p.sender) }
      : { id: p.senderId, username: 'deleted', display_name: 'Deleted user' },
    content: p.content,
    deleted: p.deleted,
  };
}

/** The relation fields of one message (see `MessageRelationsOut`). */
export function relationsOut(
  core: Core,
  m: { parentId: number | null; forwardedFromId?: number | null | undefined; deletedAt: Date | null },
  extras: MessageExtras | undefined,
) {
  return {
    attachments: m.deletedAt === null ? (extras?.attachments ?? []).map((a) => attachmentOut(core, a)) : [],
    parent_message_id: m.parentId,
    forwarded_from_id: m.forwardedFromId ?? null,
    parent: parentOut(core, extras?.parent ?? null),
  };
}

/**
 * The content of a send body on the HTTP faces: it may be left out only when the message has
 * something else to show (uploads or a forward); missing otherwise is "required", as DRF says,
 * while an empty string is the core's "may not be blank".
 */
export function contentOf(body: { content?: string | undefined; attachment_ids?: readonly number[] | undefined; forwarded_from_id?: number | null | undefined }): string {
  if (body.content === undefined && !body.attachment_ids?.length && body.forwarded_from_id == null) throw invalid('content', 'This field is required.');
  return body.content ?? '';
}
