import type { ErrorCode } from '../../core/errors.js';
import { ParleyError, isParleyError } from '../../core/errors.js';
import { type ErrorMapper, applyMapError } from '../http/error-mapping.js';

/**
 * How this face shows an error in an `{type: 'error', detail}` frame, one entry per code.
 * Internal errors say nothing about the server's insides.
 */
const detailOf: Record<ErrorCode, (e: ParleyError) => string> = {
  unauthenticated: (e) => e.message,
  forbidden: (e) => e.message,
  feature_disabled: (e) => e.message,
  not_found: () => 'Not found.',
  validation: (e) => e.message,
  conflict: (e) => e.message,
  payload_too_large: (e) => e.message,
  unsupported_media_type: (e) => e.message,
  unavailable: () => 'Service temporarily unavailable, try again.',
  rate_limited: (e) => e.message,
  internal: () => 'Internal server error',
};

/** The `detail` of an error frame for anything thrown while handling a client frame. */
export function errorDetail(err: unknown, mapError?: ErrorMapper): string {
  const outcome = applyMapError(mapError, err);
  if (outcome.kind === 'mapped') return outcome.mapped.detail;
  const e = isParleyError(err) && outcome.kind === 'unmapped' ? err : new ParleyError('internal', 'Internal server error');
  return detailOf[e.code](e);
}
