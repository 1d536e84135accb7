import { type ErrorCode, ParleyError, isParleyError } from '../../core/errors.js';
import { type ErrorMapper, applyMapError } from '../http/error-mapping.js';

/**
 * The seed's error codes (001, "Exception → code mapping") for every core error code, in one
 * table: the compiler refuses a code without a mapping. 4001 closes the connection; every
 * other code is sent as `{"error": {"code", "detail"}}` and the socket stays open.
 */
export const messagingErrorCodes: Record<ErrorCode, number> = {
  unauthenticated: 4001,
  forbidden: 4002,
  feature_disabled: 4002,
  validation: 4003,
  payload_too_large: 4003,
  unsupported_media_type: 4003,
  not_found: 4004,
  conflict: 4005,
  internal: 4006,
  unavailable: 4006,
  /** Beyond the seed's codes: too many sends; the frame carries `retry_after` (seconds). */
  rate_limited: 4029,
};

export const UNAUTHENTICATED = messagingErrorCodes.unauthenticated;

/** What a client is told: the core's message, with the fields named for validation errors. */
function detailOf(e: ParleyError): string {
  if (e.code === 'internal' || e.code === 'unavailable') return 'Internal server error';
  if (e.code === 'not_found') return e.message || 'Not found.';
  const fields = Object.entries(e.details ?? {}).filter(([field]) => field !== 'non_field_errors');
  if (fields.length === 0) return e.message;
  return fields.map(([field, messages]) => `${field}: ${messages.join(' ')}`).join('; ');
}

/**
 * Turns anything thrown by a handler into the error frame: the host's `mapError` first, then
 * the table; unknown errors (and a failing `mapError`) become 4006.
 */
export function errorFrame(err: unknown, mapError?: ErrorMapper): ErrorFrame {
  return describeError(err, mapError).frame;
}

export type ErrorFrame = { error: { code: number; detail: string; retry_after?: number } };

/**
 * The error frame, and whether the error is a server fault to log with its stack (unmapped
 * unknown errors, internal ones, and a failing `mapError`), asking `mapError` once.
 */
export function describeError(err: unknown, mapError?: ErrorMapper): { frame: ErrorFrame; fault: boolean } {
  const outcome = applyMapError(mapError, err);
  if (outcome.kind === 'mapped') return { frame: { error: { code: outcome.mapped.wsCode, detail: outcome.mapped.detail } }, fault: false };
  const e = isParleyError(err) && outcome.kind === 'unmapped' ? err : new ParleyError('internal', 'Internal server error');
  const retry = e.retryAfterSeconds !== undefined ? { retry_after: e.retryAfterSeconds } : {};
  return { frame: { error: { code: messagingErrorCodes[e.code], detail: detailOf(e), ...retry } }, fault: e.code === 'internal' || e.code === 'unavailable' };
}

/**
 * Whether an error must be logged with its stack (the client only sees "Internal server
 * error"): not when the host's `mapError` maps it; always when `mapError` itself fails.
 */
export const isServerFault = (err: unknown, mapError?: ErrorMapper): boolean => describeError(err, mapError).fault;

/** A 4003 for a frame the face could not read. */
export const badFrame = (detail: string): ParleyError => new ParleyError('validation', detail);

/**
 * Close code for a session that sent no `session.heartbeat` within `inactivityThreshold`.
 * 4000 (application range, next to the seed's 4001–4006, reason "session expired") rather
 * than 1000, so a client can tell "you went quiet, reconnect if you are still there" from a
 * normal closure or server shutdown (1001).
 */
export const SESSION_EXPIRED = 4000;
