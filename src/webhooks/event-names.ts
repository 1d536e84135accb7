import type { DomainEventType } from '../core/index.js';

/**
 * Every event a webhook endpoint can subscribe to: each domain event type, plus the two
 * drf-directmessages signals derived from them. Kept as a runtime list so the configuration
 * can reject a misspelt name at start.
 */
export const DOMAIN_EVENT_TYPES = [
  'message.created',
  'message.updated',
  'message.deleted',
  'message.hidden',
  'reaction.changed',
  'read.updated',
  'delivery.updated',
  'typing',
  'member.added',
  'member.removed',
  'conversation.created',
  'conversation.updated',
  'conversation.deleted',
  'session.started',
  'session.ended',
] as const satisfies readonly DomainEventType[];

// Fails to compile when a domain event type is added to the core but not to the list above.
type Missing = Exclude<DomainEventType, (typeof DOMAIN_EVENT_TYPES)[number]>;
const everyTypeListed: [Missing] extends [never] ? true : Missing = true;
void everyTypeListed;

export const SIGNAL_EVENT_TYPES = ['message_sent', 'message_read'] as const;

/** The event names a webhook endpoint can list in `events` (besides `'*'`). */
export const WEBHOOK_EVENT_TYPES = [...DOMAIN_EVENT_TYPES, ...SIGNAL_EVENT_TYPES] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

const KNOWN = new Set<string>(WEBHOOK_EVENT_TYPES);

/** Whether `name` is an event an endpoint can subscribe to. */
export const isWebhookEventType = (name: string): name is WebhookEventType => KNOWN.has(name);

/**
 * Problems with the `webhooks` setting as loaded (already shape-checked by the schema), one
 * line each: a URL that is not http(s), an unknown event name, a short secret, a URL listed
 * twice. Secrets are never echoed.
 */
export function webhookConfigProblems(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  const problems: string[] = [];
  const seen = new Set<string>();
  value.forEach((entry: unknown, i) => {
    if (typeof entry !== 'object' || entry === null) return;
    const { url, events, secret } = entry as { url?: unknown; events?: unknown; secret?: unknown };
    const at = `webhooks.${i}`;
    if (typeof url === 'string') {
      if (!isHttpUrl(url)) problems.push(`${at}.url: must be an http:// or https:// URL (got ${JSON.stringify(url)})`);
      else if (seen.has(url)) problems.push(`${at}.url: ${JSON.stringify(url)} is listed twice; give each endpoint once, with all its events`);
      seen.add(url);
    }
    if (Array.isArray(events)) {
      for (const name of events) {
        if (typeof name !== 'string' || name === '*' || isWebhookEventType(name)) continue;
        problems.push(`${at}.events: unknown event ${JSON.stringify(name)} (known: ${WEBHOOK_EVENT_TYPES.join(', ')}, or '*')`);
      }
    }
    if (typeof secret === 'string' && secret.length < 16) {
      problems.push(`${at}.secret: must be at least 16 characters (got ${secret.length})`);
    }
  });
  return problems;
}

function isHttpUrl(text: string): boolean {
  try {
    const u = new URL(text);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
  } catch {
    return false;
  }
}
