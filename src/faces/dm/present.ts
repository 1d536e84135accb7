import type { Static } from '@sinclair/typebox';
import type { Core, Member, Message, User, UserId } from '../../core/index.js';
import { iso } from '../http/present.js';
import type { DmMessage, Partner } from './schemas.js';

/** Django's first_name / last_name, from the shown name: the first word, then the rest. */
export function splitName(name: string): { first_name: string; last_name: string } {
  const words = name.trim().split(/\s+/).filter(Boolean);
  return { first_name: words[0] ?? '', last_name: words.slice(1).join(' ') };
}

export const partner = (core: Core, u: User): Static<typeof Partner> => ({
  id: u.id,
  username: u.username,
  ...splitName(core.users.displayName(u)),
});

/**
 * One DM message as `viewerId` sees it. `read_at` is when the recipient's read cursor last
 * moved, if it has reached this message (the core keeps a cursor per member, not a time per
 * message).
 */
export function dmMessage(viewerId: UserId, partnerId: UserId, m: Message, members: readonly Member[]): Static<typeof DmMessage> {
  const out = m.senderId === viewerId;
  const recipient = out ? partnerId : viewerId;
  const reader = members.find((x) => x.userId === recipient);
  const readAt = reader && reader.lastReadSeq >= m.seq ? reader.readAt : null;
  return {
    id: m.id,
    sender: m.senderId,
    recipient,
    direction: out ? 'out' : 'in',
    sent_at: iso(m.createdAt),
    read_at: readAt ? iso(readAt) : null,
    // A message deleted for everyone keeps its text in the store; it is never shown.
    content: m.deletedAt ? '' : m.content,
  };
}
