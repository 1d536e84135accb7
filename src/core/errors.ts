/**
 * The closed list of errors the core can raise. Every face maps each code in exactly one
 * table (`Record<ErrorCode, …>`), so adding a code here is a compile error until every face
 * says how to show it.
 */
export const ERROR_CODES = [
  /** No or invalid credentials. */
  'unauthenticated',
  /** Authenticated, but the policy refuses the action (e.g. editing another user's message). */
  'forbidden',
  /** A setting turned the feature off (e.g. `allowAddingReactions: false`). */
  'feature_disabled',
  /** The thing does not exist, or the caller may not know it exists. */
  'not_found',
  /** The input breaks a rule (empty content, self-message, whitelist, unknown member id). */
  'validation',
  /** A uniqueness or integrity rule (duplicate username, reply that is also a forward). */
  'conflict',
  /** The request body is larger than allowed. */
  'payload_too_large',
  /** The request body's type is not one the endpoint takes. */
  'unsupported_media_type',
  /** The storage backend is unavailable (connection lost); the caller may retry. */
  'unavailable',
  /** Too many sends in too short a time (`sendRateLimit`); `retryAfterSeconds` says when to retry. */
  'rate_limited',
  /** Anything unexpected. The detail is logged, never shown to a client. */
  'internal',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** Field name → messages, as Django REST Framework reports validation errors. */
export type FieldErrors = Record<string, string[]>;

/** The one error type the core throws. Faces map `code` to a status or close code. */
export class ParleyError extends Error {
  readonly code: ErrorCode;
  readonly details: FieldErrors | undefined;
  /** For `rate_limited`: whole seconds until a retry can succeed (HTTP `Retry-After`). */
  readonly retryAfterSeconds: number | undefined;

  constructor(code: ErrorCode, message: string, details?: FieldErrors, options?: { retryAfterSeconds?: number }) {
    super(message);
    this.name = 'ParleyError';
    this.code = code;
    this.details = details;
    this.retryAfterSeconds = options?.retryAfterSeconds;
  }
}

export const notFound = (what = 'Not found.'): ParleyError => new ParleyError('not_found', what);
export const forbidden = (
  detail = 'You do not have permission to perform this action.',
): ParleyError => new ParleyError('forbidden', detail);
export const featureDisabled = (detail: string): ParleyError =>
  new ParleyError('feature_disabled', detail);
export const invalid = (field: string, message: string): ParleyError =>
  new ParleyError('validation', message, { [field]: [message] });
export const conflict = (field: string, message: string): ParleyError =>
  new ParleyError('conflict', message, { [field]: [message] });

/**
 * A `rate_limited` error; the wait is rounded up to whole seconds (at least 1). `doing` names
 * what was too fast, as in "You are sending messages too fast".
 */
export const rateLimited = (retryAfterMs: number, doing = 'sending messages'): ParleyError => {
  const retryAfterSeconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  return new ParleyError('rate_limited', `You are ${doing} too fast. Try again in ${retryAfterSeconds} s.`, undefined, { retryAfterSeconds });
};

export const isParleyError = (e: unknown): e is ParleyError => e instanceof ParleyError;
