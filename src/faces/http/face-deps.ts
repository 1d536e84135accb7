import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Accounts } from '../../auth/index.js';
import type { ParleyConfig } from '../../config/index.js';
import type { Core } from '../../core/index.js';
import type { RealtimeHub } from '../../realtime/hub.js';
import type { ErrorMapper } from './error-mapping.js';

/** What every face gets from the composition root. */
export interface FaceDeps {
  core: Core;
  accounts: Accounts;
  config: ParleyConfig;
  hub: RealtimeHub;
  /** The server's logger, for failures a face handles without failing the request. */
  log: FastifyBaseLogger;
  /** The host's error mapping (`mapError`), consulted before the built-in error tables. */
  mapError?: ErrorMapper | undefined;
}

/** Narrows a plain Fastify scope to the TypeBox-typed one faces register routes on. */
export const typed = (app: FastifyInstance) => app.withTypeProvider<TypeBoxTypeProvider>();
