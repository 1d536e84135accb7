import { type ErrorCode, ParleyError, isParleyError } from '../../core/errors.js';

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

/** Turns anything thrown by a handler into the error frame; unknown errors become 4006. */
export function errorFrame(err: unknown): { error: { code: number; detail: string } } {
  const e = isParleyError(err) ? err : new ParleyError('internal', 'Internal server error');
  return { error: { code: messagingErrorCodes[e.code], detail: detailOf(e) } };
}

/** Whether an error must be logged with its stack (the client only sees "Internal server error"). */
export const isServerFault = (err: unknown): boolean => !isParleyError(err) || err.code === 'internal' || err.code === 'unavailable';

/** A 4003 for a frame the face could not read. */
export const badFrame = (detail: string): ParleyError => new ParleyError('validation', detail);

/**
 * Close code for a session that sent no `session.heartbeat` within `inactivityThreshold`.
 * 4000 (application range, next to the seed's 4001–4006, reason "session expired") rather
 * than 1000, so a client can tell "you went quiet, reconnect if you are still there" from a
 * normal closure or server shutdown (1001).
 */
export const SESSION_EXPIRED = 4000;
