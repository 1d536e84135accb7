import { Type as T } from '@sinclair/typebox';
import { DateTime, Id, Nullable, UserDetail, UserSummary } from '../http/schemas.js';
import { MediaTypeSchema, MessageRelationsOut } from '../http/attachments.js';
import { MetadataIn, MetadataOut } from '../http/metadata.js';

/**
 * Response objects a host may extend (`serializers`): documented as open, so added fields are
 * neither stripped nor a surprise to generated clients.
 */
const extensible = { additionalProperties: true, description: 'May carry extra fields a host adds (`serializers`).' } as const;

/** Schemas of the Django Messaging REST API (seed 003), shared by its routes and OpenAPI. */

export const ChatType = T.Union([T.Literal('dm'), T.Literal('group'), T.Literal('channel'), T.Literal('room')]);

export const LastMessage = T.Object({
  id: T.Integer(),
  content: T.String(),
  created_at: DateTime,
  sender: UserSummary,
  attachments_count: T.Integer({ description: 'How many files the message carries (to preview a message without text).' }),
  first_attachment: Nullable(
    T.Object(
      { name: T.String(), media_type: MediaTypeSchema },
      { description: 'The first file, for a preview such as "📎 photo.png"; fetch the message for URLs.' },
    ),
  ),
  forwarded_from_id: Nullable(T.Integer({ description: 'The message this one forwards, if any.' })),
});

const chatFields = {
  id: T.Integer(),
  title: T.String(),
  chat_type: ChatType,
  created_at: DateTime,
  updated_at: DateTime,
  is_public: T.Boolean(),
  object: Nullable(T.String({ description: 'Content object a room is attached to, e.g. "product:42".' })),
  members: T.Array(UserSummary),
  metadata: MetadataOut,
};

export const ChatListItem = T.Object({
  ...chatFields,
  is_muted: T.Boolean({ description: 'You muted this chat: no notifications; messages still arrive and count as unread.' }),
  last_message: Nullable(LastMessage),
  unread_count: T.Integer(),
}, extensible);

export const ChatDetail = T.Object({
  ...chatFields,
  is_muted: T.Boolean({ description: 'You muted this chat: no notifications; messages still arrive and count as unread.' }),
  admins: T.Array(T.Integer()),
  member_count: T.Integer(),
  is_member: T.Boolean(),
}, extensible);

export const Reaction = T.Object({ emoji: T.String(), count: T.Integer(), users: T.Array(T.Integer()) });

export const MessageOut = T.Object({
  id: T.Integer(),
  chat: T.Integer(),
  content: T.String(),
  created_at: DateTime,
  updated_at: DateTime,
  is_edited: T.Boolean(),
  is_deleted: T.Boolean(),
  sender: UserSummary,
  reactions: T.Array(Reaction),
  read_by: T.Array(T.Integer()),
  parent_id: Nullable(T.Integer()),
  client_id: Nullable(T.String()),
  ...MessageRelationsOut,
  metadata: MetadataOut,
}, extensible);

export const Page = <S extends ReturnType<typeof T.Object>>(item: S) =>
  T.Object({
    count: T.Integer(),
    next: Nullable(T.String()),
    previous: Nullable(T.String()),
    results: T.Array(item),
  });

export const ChatListQuery = T.Object({
  page: T.Optional(T.Integer({ minimum: 1, maximum: 1_000_000 })),
  search: T.Optional(T.String({ maxLength: 200 })),
  chat_type: T.Optional(ChatType),
});

export const CreateChat = T.Object(
  {
    chat_type: ChatType,
    title: T.Optional(Nullable(T.String({ maxLength: 200 }))),
    member_ids: T.Optional(T.Array(Id, { maxItems: 10_000 })),
    object: T.Optional(T.String({ maxLength: 200 })),
    is_public: T.Optional(T.Boolean()),
    metadata: T.Optional(MetadataIn),
  },
  { additionalProperties: false },
);

export const UpdateChat = T.Object(
  {
    title: T.Optional(Nullable(T.String({ maxLength: 200 }))),
    is_public: T.Optional(T.Boolean()),
    metadata: T.Optional(MetadataIn),
  },
  { additionalProperties: false },
);

export const MessageListQuery = T.Object({
  page: T.Optional(T.Integer({ minimum: 1, maximum: 1_000_000 })),
  before: T.Optional(Id),
  after: T.Optional(Id),
});

export const SendMessage = T.Object(
  {
    content: T.Optional(T.String({ maxLength: 100_000, description: 'Required unless the message has attachments (or forwards one).' })),
    parent_id: T.Optional(Nullable(Id)),
    parent_message_id: T.Optional(T.Union([Id, T.Null()], { description: 'Reply to this message (same as `parent_id`).' })),
    forwarded_from_id: T.Optional(T.Union([Id, T.Null()], { description: 'Forward this message (any you can see); not together with a parent.' })),
    attachment_ids: T.Optional(T.Array(Id, { maxItems: 20, description: 'Your own uploads (`POST uploads/`) not attached yet.' })),
    client_id: T.Optional(T.String({ minLength: 1, maxLength: 64, description: 'Client-chosen id; a retry with the same id returns the first message.' })),
    metadata: T.Optional(MetadataIn),
  },
  { additionalProperties: false },
);

export const EditMessage = T.Object({ content: T.String({ maxLength: 100_000 }), metadata: T.Optional(MetadataIn) }, { additionalProperties: false });

export const ReactionBody = T.Object({ emoji: T.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false });
export const ReactionResult = T.Object({
  action: T.Union([T.Literal('added'), T.Literal('removed')]),
  emoji: T.String(),
  message_id: T.Integer(),
});

export const MarkRead = T.Object(
  { message_id: T.Optional(Id) },
  { additionalProperties: false, description: 'Optional: read up to this message.' },
);
export const MarkReadResult = T.Object({ status: T.Literal('success'), marked_count: T.Integer() });

export const AddMembers = T.Object({ user_ids: T.Array(Id, { maxItems: 10_000 }) }, { additionalProperties: false });
export const AddMembersResult = T.Object({ status: T.Literal('success'), added_count: T.Integer() });

export const UserSearchQuery = T.Object({ q: T.String({ minLength: 1, maxLength: 200 }) });
export const UserSearchResult = T.Object({ results: T.Array(UserDetail) });

export const Typing = T.Object({ is_typing: T.Optional(T.Boolean()) }, { additionalProperties: false });
export const StatusOk = T.Object({ status: T.Literal('success') });

export const MuteChat = T.Object(
  { until: T.Optional(Nullable(DateTime)) },
  { additionalProperties: false, description: '`until`: end of the mute (ISO 8601, in the future); absent or null = until unmuted.' },
);
export const MuteState = T.Object({ is_muted: T.Boolean(), muted_until: Nullable(DateTime) });
export const BlockState = T.Object({ user: UserDetail, is_blocked: T.Boolean() });
export const BlockList = T.Object({
  count: T.Integer(),
  results: T.Array(T.Object({ user: UserDetail, blocked_at: DateTime })),
});

export const RoomQuery = T.Object({ object: T.String({ minLength: 1, maxLength: 200 }) });

export const SearchQuery = T.Object({
  q: T.String({ minLength: 1, maxLength: 500 }),
  limit: T.Optional(T.Integer({ minimum: 1, maximum: 100 })),
});
export const SearchResult = T.Object({
  count: T.Integer(),
  results: T.Array(
    T.Object({
      id: T.Integer(),
      chat: T.Integer(),
      content: T.String(),
      highlighted: T.String({ description: 'HTML-safe snippet; matches wrapped in <mark>.' }),
      created_at: DateTime,
      sender: UserSummary,
    }),
  ),
});
