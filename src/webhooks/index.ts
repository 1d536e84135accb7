/**
 * Webhooks: signed JSON POSTs of chosen events to configured endpoints, through the store's
 * durable outbox (docs/extending/webhooks.md). The module's public door.
 */
export { type ParleyWebhooks, type WebhookDispatcherOptions, type WebhookLog, WebhookDispatcher } from './dispatcher.js';
export { WEBHOOK_EVENT_TYPES, type WebhookEventType, isWebhookEventType, webhookConfigProblems } from './event-names.js';
export { type VerifyWebhookSignatureInput, signWebhook, verifyWebhookSignature } from './signature.js';
