import { type TSchema, Type as T } from '@sinclair/typebox';
import { DateTime, ErrorDetail, Nullable, dmCommonErrors } from '../http/schemas.js';
import { MessageRelationsOut } from '../http/attachments.js';
import { MetadataIn, MetadataOut } from '../http/metadata.js';

/** Response objects a host may extend (`serializers.dm`): documented as open. */
const extensible = { additionalProperties: true, description: 'May carry extra fields a host adds (`serializers`).' } as const;

/** The drf-directmessages shapes, as its README shows them. */

/**
 * `<id>` in `conversations/<id>/`, `send/<id>/` (a user id) and `messages/<id>/` (a message
 * id). Any digits, as Django's `<int:pk>`: an id that names nothing (0 included) is a 404.
 */
export const IdPath = T.Object({ id: T.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }) });

export const CursorQuery = T.Object({
  cursor: T.Optional(T.String({ description: 'Opaque cursor from a previous page’s `next` or `previous` link.' })),
});

export const SendBody = T.Object({
  content: T.Optional(T.String({ description: 'The message text; may be empty only with attachments (or a forward).' })),
  attachment_ids: T.Optional(T.Array(T.Integer({ minimum: 1 }), { maxItems: 20, description: 'Your own uploads (`POST /messages/api/uploads/`) not attached yet.' })),
  parent_message_id: T.Optional(T.Union([T.Integer({ minimum: 1 }), T.Null()], { description: 'Reply to this message.' })),
  forwarded_from_id: T.Optional(T.Union([T.Integer({ minimum: 1 }), T.Null()], { description: 'Forward this message; not together with a parent.' })),
  metadata: T.Optional(MetadataIn),
});

export const DmMessage = T.Object({
  id: T.Integer(),
  sender: T.Integer({ description: 'User id of the sender.' }),
  recipient: T.Integer({ description: 'User id of the recipient.' }),
  direction: T.Union([T.Literal('in'), T.Literal('out')], { description: 'Relative to the authenticated user.' }),
  sent_at: DateTime,
  read_at: Nullable(DateTime),
  content: T.String(),
  ...MessageRelationsOut,
  metadata: MetadataOut,
}, extensible);

export const Partner = T.Object({
  id: T.Integer({ description: 'User id of the conversation partner.' }),
  username: T.String(),
  first_name: T.String(),
  last_name: T.String(),
}, extensible);

export const UnreadTotal = T.Object({
  id: T.Integer({ description: 'The authenticated user’s id.' }),
  count: T.Integer({ minimum: 0 }),
});

export const PartnerUnread = T.Object({
  partner_id: T.Integer(),
  partner_username: T.String(),
  unread_count: T.Integer({ minimum: 1 }),
});

/** DRF's `CursorPagination` envelope. */
export const CursorPage = <S extends TSchema>(item: S) =>
  T.Object({
    next: Nullable(T.String({ format: 'uri' })),
    previous: Nullable(T.String({ format: 'uri' })),
    results: T.Array(item),
  });

export const MessagePage = CursorPage(DmMessage);
export const PartnerPage = CursorPage(Partner);

/**
 * Every route's error responses: DRF `{detail}` bodies. 403 for missing or bad credentials
 * (as DRF with session authentication first) and when a setting or hook refuses; never 401.
 */
const { 401: _unauthenticated, ...dmBaseErrors } = dmCommonErrors;
export const dmErrorResponses = { ...dmBaseErrors, 403: ErrorDetail } as const;
