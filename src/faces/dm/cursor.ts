import { type Static, type TSchema, Type as T } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { ParleyError } from '../../core/index.js';
import { Id } from '../http/schemas.js';

/**
 * Opaque cursors: base64url of a small JSON object, checked against a schema on the way in,
 * so anything a client made up is a 400 `{detail: "Invalid cursor"}` and never reaches the
 * core. `d` is the direction: `n` walks towards older items (a `next` link), `p` towards
 * newer ones (a `previous` link).
 */
const Direction = T.Union([T.Literal('n'), T.Literal('p')]);

/** Messages of one DM, keyed by the message id the page continues from (exclusive). */
export const MessageCursor = T.Object({ d: Direction, m: Id }, { additionalProperties: false });
export type MessageCursor = Static<typeof MessageCursor>;

/** Conversation partners, keyed by the partner's user id the page continues from (exclusive). */
export const ConversationCursor = T.Object({ d: Direction, u: Id }, { additionalProperties: false });
export type ConversationCursor = Static<typeof ConversationCursor>;

const MAX_LENGTH = 256;

export const invalidCursor = (): ParleyError => new ParleyError('validation', 'Invalid cursor');

export function encodeCursor<S extends TSchema>(_schema: S, value: Static<S>): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

/** The decoded cursor, null when none was sent; throws `Invalid cursor` for anything else. */
export function decodeCursor<S extends TSchema>(schema: S, raw: string | undefined): Static<S> | null {
  if (raw === undefined) return null;
  if (raw.length === 0 || raw.length > MAX_LENGTH || !/^[A-Za-z0-9_-]+$/.test(raw)) throw invalidCursor();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor();
  }
  if (!Value.Check(schema, parsed)) throw invalidCursor();
  return parsed;
}
