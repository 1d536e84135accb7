import type { FastifyInstance } from 'fastify';

/**
 * How a host shows one of its own errors (the seed's `EXCEPTION_HANDLER_CLASS`): the HTTP
 * status and body on `/messages/api/`, `/api/dm/` and the other HTTP routes, and the code of
 * the `{"error": {"code", "detail"}}` frame on `/messaging/` (`detail` also goes in the
 * `/messages/ws/` error frame).
 */
export interface MappedError {
  /** HTTP status, 400–599. */
  status: number;
  /** `/messaging/` error code, e.g. 4010 (4000–4999; 4001 closes the socket, as unauthenticated does). */
  wsCode: number;
  /** What the client is told. */
  detail: string;
  /** The HTTP body; default `{ "detail": detail }`. */
  body?: Record<string, unknown>;
}

/**
 * Consulted first for anything thrown while handling a request or a frame (from a before-hook,
 * an operation, a policy method, a handler…): a result is sent as is; `undefined` leaves the
 * error to the built-in tables (a `ParleyError` by its code, anything else 500 / 4006). A
 * mapper that throws, or returns a status outside 400–599 or a code outside 4000–4999, counts
 * as an internal error and is logged.
 */
export type ErrorMapper = (err: unknown) => MappedError | undefined;

/** The mapper's answer: mapped, left to the tables, or the mapper itself failed. */
export type MapOutcome = { kind: 'mapped'; mapped: MappedError } | { kind: 'unmapped' } | { kind: 'failed'; error: unknown };

export function applyMapError(mapError: ErrorMapper | undefined, err: unknown): MapOutcome {
  if (!mapError) return { kind: 'unmapped' };
  try {
    const mapped = mapError(err);
    if (mapped === undefined) return { kind: 'unmapped' };
    const okStatus = Number.isInteger(mapped.status) && mapped.status >= 400 && mapped.status <= 599;
    const okCode = Number.isInteger(mapped.wsCode) && mapped.wsCode >= 4000 && mapped.wsCode <= 4999;
    if (!okStatus || !okCode || typeof mapped.detail !== 'string') {
      return { kind: 'failed', error: new TypeError(`mapError returned an invalid mapping: ${JSON.stringify(mapped)}`) };
    }
    return { kind: 'mapped', mapped };
  } catch (error) {
    return { kind: 'failed', error };
  }
}

const MAPPERS = new WeakMap<object, ErrorMapper>();

/** Registers the host's mapper on the root Fastify instance (its child scopes find it too). */
export function setErrorMapper(app: FastifyInstance, mapError: ErrorMapper | undefined): void {
  if (mapError) MAPPERS.set(rootOf(app), mapError);
}

/** The mapper registered for the app a scope belongs to. */
export function errorMapperOf(app: FastifyInstance): ErrorMapper | undefined {
  return MAPPERS.get(rootOf(app));
}

// Every encapsulated scope shares its root's `server` (the node:http server), so that keys
// the mapper for the whole app without a Fastify decorator.
const rootOf = (app: FastifyInstance): object => app.server;
