/**
 * A host that changes Parley's rules through the public API only:
 *
 * - a custom policy (the seed's `PERMISSION_HANDLER_CLASS`): groups tagged read-only through
 *   their `metadata` take posts from their admins only, and users may edit their messages
 *   only within 15 minutes of sending them;
 * - a profanity filter: a `lifecycle.before` hook that masks words on every send and edit,
 *   whichever API the client speaks (REST, /api/dm/, the /messaging/ WebSocket).
 *
 *   npx tsx examples/custom-policy/server.ts     # http://127.0.0.1:3000
 *
 *   # an admin creates a read-only group, members can read but not post:
 *   curl -X POST localhost:3000/messages/api/chats/ -H "Authorization: Token $TOKEN" \
 *        -H 'content-type: application/json' \
 *        -d '{"chat_type":"group","title":"News","member_ids":[2],"metadata":{"readOnly":true}}'
 */
import { pathToFileURL } from 'node:url';
import { type Parley, type ParleyHooks, type ParleyOptions, type Policy, createParley } from '../../src/index.js';

/** Words the filter masks (a real host would load a proper list). */
const BLOCKLIST = ['darn', 'heck', 'frak'];
const PATTERN = new RegExp(`\\b(${BLOCKLIST.join('|')})\\b`, 'gi');

/** Replaces every blocklisted word with asterisks of the same length. */
export const mask = (text: string): string => text.replace(PATTERN, (word) => '*'.repeat(word.length));

/** How long after sending a message its sender may still edit it. */
export const EDIT_WINDOW_MS = 15 * 60 * 1000;

/**
 * The custom rules. Only the checks that differ are given; the rest stay Parley's. The names
 * are the seed's permission checks (`have_send_message_permission`, `is_message_sender`…) in
 * camelCase, or the `can…` methods the core calls; either works.
 */
export function customPolicy(editWindowMs = EDIT_WINDOW_MS, now: () => Date = () => new Date()): Partial<Policy> {
  return {
    // Read-only groups: only admins post. Everything else as Parley's default (channels: staff).
    async haveSendMessagePermission({ conversation, member }) {
      if (member === null) return false;
      if (conversation.metadata?.readOnly === true) return member.role === 'admin';
      return conversation.kind === 'channel' ? member.role !== 'member' : true;
    },
    // Editing: the sender, within the window. Deleting stays the default (sender, any time).
    async canEditMessage({ actor, member }, message) {
      return member !== null && message.senderId === actor.id && now().getTime() - message.createdAt.getTime() <= editWindowMs;
    },
  };
}

/** The profanity filter: rewrites the content of every send and edit before it is stored. */
export const profanityFilter: ParleyHooks = {
  before: {
    'message.send': ({ content }) => ({ content: mask(content) }),
    'message.edit': ({ content }) => ({ content: mask(content) }),
  },
};

export interface Running {
  url: string;
  parley: Parley;
}

let running: Parley | null = null;

/**
 * Starts Parley with the custom policy and the filter on `port` (0: any free one).
 * `editWindowMs` shortens the edit window (tests pass 0 to see it closed).
 */
export async function start(port = 3000, options: ParleyOptions & { editWindowMs?: number } = {}): Promise<Running> {
  const { editWindowMs, ...rest } = options;
  const parley = await createParley({
    databaseUrl: ':memory:',
    ...rest,
    policy: customPolicy(editWindowMs),
    lifecycle: profanityFilter,
    // `readOnly` is the only conversation metadata this host uses; anything else is a 400.
    metadataSchema: {
      conversation: { type: 'object', properties: { readOnly: { type: 'boolean' } }, additionalProperties: false },
    },
  });
  const url = await parley.listen({ port, host: '127.0.0.1' });
  running = parley;
  return { url, parley };
}

export async function stop(): Promise<void> {
  const parley = running;
  running = null;
  await parley?.close();
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { url } = await start(Number(process.env.PORT ?? 3000));
  console.log(`Parley with a custom policy and a profanity filter on ${url}`);
  const shutdown = () => void stop().then(() => process.exit(0));
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}
