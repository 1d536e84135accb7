import { type Static, type TSchema, Type as T } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { ParleyError } from '../../core/errors.js';
import type { RoomType } from '../../protocol/messaging-frames.js';

/**
 * The `data` of every client event of the default map. Unknown properties are allowed and
 * ignored, as the seed's clients send extras (`extra_fields`, `description`…). A `description`
 * on a schema is what an error about it says was expected.
 */

/** Ids come as numbers or as numeric strings (`"42"`), as the seed's clients send them. */
const Id = T.Union([T.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }), T.String({ pattern: '^[1-9][0-9]{0,14}$' })], {
  description: 'an id (a positive integer or a numeric string)',
});
const IdList = T.Array(Id, { minItems: 1, maxItems: 500, description: 'a non-empty list of ids (at most 500)' });
const IdOrIds = T.Union([Id, IdList], { description: 'an id or a non-empty list of ids' });
const RoomId = T.Object({ room_id: Id });

export type IdInput = Static<typeof Id>;
export const toId = (v: IdInput): number => Number(v);
export const toIds = (v: IdInput | IdInput[]): number[] => (Array.isArray(v) ? v : [v]).map(toId);

/** Media by URL, as the seed's `extra_fields.media` items (`MessageMediaAsset`). */
const MediaItem = T.Object({
  media_url: T.String({ minLength: 1, maxLength: 2048, description: 'an http(s) URL' }),
  media_type: T.Optional(T.String({ maxLength: 32, description: '"image", "video", "audio" or "file"' })),
  file_size: T.Optional(T.Integer({ minimum: 0, description: 'a size in bytes' })),
  mime_type: T.Optional(T.String({ maxLength: 255, description: 'a MIME type' })),
  metadata: T.Optional(T.Union([T.Record(T.String(), T.Unknown()), T.Null()], { description: 'an object or null' })),
  name: T.Optional(T.String({ maxLength: 255, description: 'a file name' })),
});
const MediaList = T.Array(MediaItem, { maxItems: 20, description: 'a list of at most 20 media objects' });
const AttachmentIds = T.Array(Id, { maxItems: 20, description: 'a list of at most 20 upload ids' });
/** Host-defined data (`metadataSchema`); the core checks it is an object and validates it. */
const Metadata = T.Unknown({ description: 'a JSON object or null' });

export const Schemas = {
  'message.send': T.Object({
    room_id: Id,
    content: T.Optional(T.String({ description: 'a string (may be empty when the message has media)' })),
    client_id: T.Optional(T.Union([T.String(), T.Null()], { description: 'a string or null' })),
    parent_message_id: T.Optional(T.Union([Id, T.Null()], { description: 'an id or null' })),
    forwarded_from_id: T.Optional(T.Union([Id, T.Null()], { description: 'an id or null' })),
    attachment_ids: T.Optional(AttachmentIds),
    media: T.Optional(MediaList),
    metadata: T.Optional(Metadata),
    extra_fields: T.Optional(
      T.Object({
        parent_message_id: T.Optional(T.Union([Id, T.Null()], { description: 'an id or null' })),
        forwarded_from_id: T.Optional(T.Union([Id, T.Null()], { description: 'an id or null' })),
        attachment_ids: T.Optional(AttachmentIds),
        media: T.Optional(MediaList),
        metadata: T.Optional(Metadata),
      }),
    ),
  }),
  'message.acknowledged': T.Object({ message_id: IdOrIds }),
  'message.read': T.Object({ message_id: IdOrIds }),
  'message.react': T.Object({
    message_id: Id,
    type: T.Union([T.Literal('add'), T.Literal('remove')], { description: '"add" or "remove"' }),
    reaction_content: T.String({ minLength: 1, maxLength: 64, description: 'a reaction of 1 to 64 characters' }),
  }),
  'message.typing': T.Object({ room_id: Id, is_typing: T.Optional(T.Boolean({ description: 'true or false' })) }),
  'message.modify': T.Object({
    message_id: IdOrIds,
    action: T.Union([T.Literal('update'), T.Literal('delete')], { description: '"update" or "delete"' }),
    content: T.Optional(T.String({ description: 'a string' })),
    metadata: T.Optional(Metadata),
    extra_fields: T.Optional(T.Object({ content: T.Optional(T.String({ description: 'a string' })), metadata: T.Optional(Metadata) })),
  }),
  'room.create': T.Object({
    room_type: T.Union([T.Literal('one_to_one'), T.Literal('group_chat'), T.Literal('channel'), T.Literal('room')], {
      description: 'one of "one_to_one", "group_chat", "channel", "room"',
    }),
    name: T.Optional(T.Union([T.String({ maxLength: 200 }), T.Null()], { description: 'a name of at most 200 characters, or null' })),
    /** The other members; the seed's `participants` / `subscribers` are accepted too. */
    member_ids: T.Optional(IdList),
    participants: T.Optional(IdList),
    subscribers: T.Optional(IdList),
    /** For one_to_one: the other user. */
    user_id: T.Optional(Id),
    is_public: T.Optional(T.Boolean({ description: 'true or false' })),
    object: T.Optional(T.String({ description: 'an object key such as "product:42"' })),
    metadata: T.Optional(Metadata),
  }),
  'room.list': T.Object({}),
  'room.info': RoomId,
  'room.messages': T.Object({
    room_id: Id,
    paginate: T.Optional(
      T.Object({
        page: T.Optional(T.Integer({ minimum: 1, description: 'a page number (1 or more)' })),
        size: T.Optional(T.Integer({ minimum: 1, maximum: 500, description: 'a page size from 1 to 500' })),
      }),
    ),
  }),
  'room.add_members': T.Object({ room_id: Id, member_ids: T.Optional(IdList), members: T.Optional(IdList), user_ids: T.Optional(IdList) }),
  'room.remove_members': T.Object({ room_id: Id, member_ids: T.Optional(IdList), members: T.Optional(IdList), user_ids: T.Optional(IdList) }),
  'room.join': RoomId,
  'room.leave': RoomId,
  'room.modify': T.Object({
    room_id: Id,
    action: T.Union([T.Literal('update'), T.Literal('delete')], { description: '"update" or "delete"' }),
    /** The changes (the seed nests them under `data`; top-level `name` / `is_public` work too). */
    data: T.Optional(
      T.Object({
        name: T.Optional(T.Union([T.String({ maxLength: 200 }), T.Null()], { description: 'a name of at most 200 characters, or null' })),
        is_public: T.Optional(T.Boolean({ description: 'true or false' })),
        metadata: T.Optional(Metadata),
      }),
    ),
    name: T.Optional(T.Union([T.String({ maxLength: 200 }), T.Null()], { description: 'a name of at most 200 characters, or null' })),
    is_public: T.Optional(T.Boolean({ description: 'true or false' })),
    metadata: T.Optional(Metadata),
  }),
  'session.heartbeat': T.Object({}),
  // Beyond the seed: personal policies (docs/extending/policies.md).
  'user.block': T.Object({ user_id: Id }),
  'user.unblock': T.Object({ user_id: Id }),
  'room.mute': T.Object({
    room_id: Id,
    until: T.Optional(T.Union([T.String({ description: 'an ISO 8601 date-time' }), T.Null()], { description: 'an ISO 8601 date-time or null' })),
  }),
  'room.unmute': RoomId,
} satisfies Record<string, TSchema>;

export type DefaultEventType = keyof typeof Schemas;
export type DataOf<E extends DefaultEventType> = Static<(typeof Schemas)[E]>;

export const ROOM_KINDS = { one_to_one: 'dm', group_chat: 'group', channel: 'channel', room: 'room' } as const satisfies Record<
  RoomType,
  'dm' | 'group' | 'channel' | 'room'
>;
export const ROOM_TYPES = { dm: 'one_to_one', group: 'group_chat', channel: 'channel', room: 'room' } as const satisfies Record<
  'dm' | 'group' | 'channel' | 'room',
  RoomType
>;

/**
 * Checks `data` against a schema; a mismatch is a validation error (4003) naming the first
 * offending field, e.g. `room_id: This field is required.`
 */
export function parseData<S extends TSchema>(schema: S, data: unknown): Static<S> {
  if (Value.Check(schema, data)) return data;
  const first = Value.Errors(schema, data).First();
  const field = first ? first.path.replace(/^\//, '').replaceAll('/', '.') || 'data' : 'data';
  let message = 'Invalid value.';
  if (first) {
    const expected = (first.schema as { description?: unknown }).description;
    if (first.value === undefined) message = 'This field is required.';
    else if (typeof expected === 'string') message = `Expected ${expected}.`;
    else message = `${first.message}.`;
  }
  throw new ParleyError('validation', `${field}: ${message}`, { [field]: [message] });
}
