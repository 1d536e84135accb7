/**
 * The server answered with an error status. `body` is the parsed JSON body when there was one
 * (`{detail}` or `{field: [messages]}` on this API).
 */
export class ParleyHttpError extends Error {
  override readonly name = 'ParleyHttpError';

  constructor(
    readonly status: number,
    readonly body: unknown,
    message: string,
  ) {
    super(message);
  }

  /** 5xx, 408 and 429 may succeed later; any other 4xx will not. */
  get retryable(): boolean {
    return this.status >= 500 || this.status === 408 || this.status === 429;
  }
}

/** The request did not get an answer: connection refused or reset, DNS, offline… */
export class ParleyNetworkError extends Error {
  override readonly name = 'ParleyNetworkError';

  constructor(override readonly cause: unknown) {
    super(`network error: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}

/** Whether trying the same request again could help. */
export function isRetryable(err: unknown): boolean {
  return err instanceof ParleyNetworkError || (err instanceof ParleyHttpError && err.retryable);
}
