import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { type ErrorCode, type FieldErrors, ParleyError, isParleyError } from '../../core/errors.js';
import { applyMapError, errorMapperOf } from './error-mapping.js';

/** How one face shows one error code: the HTTP status and the JSON body. */
export type HttpErrorShape = (e: ParleyError) => { status: number; body: Record<string, unknown> };

/** One table per face, over every code: the compiler refuses a missing mapping. */
export type HttpErrorTable = Record<ErrorCode, HttpErrorShape>;

const detail = (status: number) => (e: ParleyError) => ({ status, body: { detail: e.message } });
const invalidRequest = (e: ParleyError) => ({
  status: 400,
  body: { error: 'Invalid request', details: e.details ?? { non_field_errors: [e.message] } },
});

/**
 * The Django Messaging error shapes (seed 003): 400 `{error, details}`, 401/403/404 `{detail}`,
 * 500 `{error: "Internal server error"}`. Used by `/messages/api/`, `/auth/` and the rest of
 * the HTTP surface.
 */
export const restErrors: HttpErrorTable = {
  unauthenticated: detail(401),
  forbidden: detail(403),
  feature_disabled: detail(403),
  not_found: () => ({ status: 404, body: { detail: 'Not found.' } }),
  validation: invalidRequest,
  conflict: invalidRequest,
  payload_too_large: detail(413),
  unsupported_media_type: detail(415),
  unavailable: () => ({ status: 503, body: { detail: 'Service temporarily unavailable, try again.' } }),
  rate_limited: detail(429),
  internal: () => ({ status: 500, body: { error: 'Internal server error' } }),
};

/**
 * The DRF shapes drf-directmessages clients expect: every error is `{detail}`; validation
 * errors also carry the field errors under their field names, as DRF does. Missing or bad
 * credentials are a 403, as DRF answers when its first authentication class (session) sends
 * no `WWW-Authenticate`; a 404 says what the face says (`Message not found or not authorized.`).
 */
export const dmErrors: HttpErrorTable = {
  ...restErrors,
  unauthenticated: detail(403),
  not_found: detail(404),
  validation: (e) => ({ status: 400, body: { detail: e.message, ...(e.details ?? {}) } }),
  conflict: (e) => ({ status: 400, body: { detail: e.message, ...(e.details ?? {}) } }),
  internal: () => ({ status: 500, body: { detail: 'Internal server error' } }),
};

/** Turns anything thrown in a request into a ParleyError; unknown errors become `internal`. */
export function toParleyError(err: unknown): ParleyError {
  if (isParleyError(err)) return err;
  const fe = err as Partial<FastifyError> & { validation?: { instancePath?: string; params?: Record<string, unknown>; message?: string }[] };
  if (Array.isArray(fe.validation)) {
    const details: FieldErrors = {};
    for (const v of fe.validation) {
      const missing = v.params?.missingProperty;
      const extra = v.params?.additionalProperty;
      const field =
        typeof missing === 'string'
          ? missing
          : (v.instancePath ?? '').replace(/^\//, '').replaceAll('/', '.') || (typeof extra === 'string' ? extra : 'non_field_errors');
      const msg = typeof missing === 'string' ? 'This field is required.' : typeof extra === 'string' ? `Unknown field "${extra}".` : (v.message ?? 'Invalid value.');
      (details[field] ??= []).push(msg);
    }
    return new ParleyError('validation', 'Invalid request.', details);
  }
  switch (fe.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new ParleyError('validation', 'Malformed JSON body.', { non_field_errors: ['Malformed JSON body.'] });
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ParleyError('payload_too_large', 'Request body is too large.');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ParleyError('unsupported_media_type', 'Unsupported media type: send JSON or a form (application/x-www-form-urlencoded).');
    default:
      break;
  }
  if (err instanceof SyntaxError && typeof fe.statusCode === 'number' && fe.statusCode === 400) {
    return new ParleyError('validation', 'Malformed JSON body.', { non_field_errors: ['Malformed JSON body.'] });
  }
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    // Other client errors Fastify raises itself (bad content length, bad URL encoding…).
    if (fe.statusCode === 413) return new ParleyError('payload_too_large', 'Request body is too large.');
    if (fe.statusCode === 415) return new ParleyError('unsupported_media_type', 'Unsupported media type.');
    return new ParleyError('validation', fe.message ?? 'Invalid request.', { non_field_errors: [fe.message ?? 'Invalid request.'] });
  }
  return new ParleyError('internal', 'Internal server error');
}

/**
 * Installs a face's error table on a Fastify scope: every error, thrown or from validation,
 * leaves through here. Internal errors are logged with their stack; clients see none of it.
 */
export function installErrorHandler(app: FastifyInstance, table: HttpErrorTable): void {
  app.setErrorHandler((err, request, reply) => {
    // The host's `mapError` goes first; a failing one makes this an internal error.
    const outcome = applyMapError(errorMapperOf(request.server), err);
    if (outcome.kind === 'mapped') {
      const { status, detail, body } = outcome.mapped;
      return reply.code(status).type('application/json; charset=utf-8').send(body ?? { detail });
    }
    if (outcome.kind === 'failed') {
      request.log.error({ err, mapErrorFailure: outcome.error }, 'request failed, and mapError failed on it');
      return sendError(reply, table, new ParleyError('internal', 'Internal server error'));
    }
    const pe = toParleyError(err);
    if (pe.code === 'internal' || pe.code === 'unavailable') request.log.error({ err }, 'request failed');
    return sendError(reply, table, pe);
  });
}

export function sendError(reply: FastifyReply, table: HttpErrorTable, e: ParleyError): FastifyReply {
  const { status, body } = table[e.code](e);
  // RFC 9110 Retry-After (seconds) on 429s, so HTTP clients and proxies back off on their own.
  if (e.code === 'rate_limited' && e.retryAfterSeconds !== undefined) void reply.header('Retry-After', String(e.retryAfterSeconds));
  return reply.code(status).type('application/json; charset=utf-8').send(body);
}

/**
 * Refusals Node makes before any route runs, in the `{detail}` shape of every other error: a
 * body that has not arrived within `requestTimeoutSeconds` (408), headers over Node's limit
 * (431), bytes that are not HTTP (400). The connection is closed after the answer.
 */
export function answerClientError(err: Error & { code?: string }, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, detail] =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'The request did not arrive in time: send the whole body within requestTimeoutSeconds.']
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'Request headers are too large.']
        : [400, 'Malformed HTTP request.'];
  const body = JSON.stringify({ detail });
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}
