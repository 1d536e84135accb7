import type { Static } from '@sinclair/typebox';
import type { Core, Message, MessageExtras, MessageId, User, UserId } from '../../core/index.js';
import { relationsOut } from '../http/attachments.js';
import { iso } from '../http/present.js';
import { applySerializer, serializersOf } from '../serializers.js';
import { metadataOut } from '../http/metadata.js';
import type { DmMessage, Partner } from './schemas.js';

/** Django's first_name / last_name, from the shown name: the first word, then the rest. */
export function splitName(name: string): { first_name: string; last_name: string } {
  const words = name.trim().split(/\s+/).filter(Boolean);
  return { first_name: words[0] ?? '', last_name: words.slice(1).join(' ') };
}

/** A conversation partner, through the host's `serializers.dm.user`. */
export const partner = (core: Core, u: User): Static<typeof Partner> =>
  applySerializer(serializersOf(core).dm?.user, { id: u.id, username: u.username, ...splitName(core.users.displayName(u)) }, u);

/**
 * One DM message as `viewerId` sees it. `read_at` is when its recipient read it (per message,
 * `core.messages.readTimes`): a reply does not mark earlier messages read, only reading does.
 */
export function dmMessage(
  core: Core,
  viewerId: UserId,
  partnerId: UserId,
  m: Message,
  /** When each message was read by its recipient; absent: unread. */
  readTimes: ReadonlyMap<MessageId, Date>,
  /** Attachments and reply quotes (`core.attachments.extrasOf`); without them, none are shown. */
  extras?: Map<number, MessageExtras>,
): Static<typeof DmMessage> {
  const out = m.senderId === viewerId;
  const recipient = out ? partnerId : viewerId;
  const readAt = readTimes.get(m.id) ?? null;
  const shape = {
    id: m.id,
    sender: m.senderId,
    recipient,
    direction: out ? 'out' : 'in',
    sent_at: iso(m.createdAt),
    read_at: readAt ? iso(readAt) : null,
    // A message deleted for everyone keeps its text in the store; it is never shown.
    content: m.deletedAt ? '' : m.content,
    ...relationsOut(core, m, extras?.get(m.id)),
    metadata: m.deletedAt ? {} : metadataOut(m),
  } satisfies Static<typeof DmMessage>;
  return applySerializer(serializersOf(core).dm?.message, shape, m);
}
