import type { FastifyPluginAsync } from 'fastify';
import type { ConnectionCap } from '../../realtime/connection-cap.js';
import type { FaceDeps } from '../http/face-deps.js';
import type { WsRoute } from '../ws/upgrade.js';
import { encodeMessagesEvent } from './encode.js';
import { liveHttp } from './http.js';
import { serializersOf } from '../serializers.js';
import { messagesWsRoute } from './ws.js';

/**
 * Live events of the Django Messaging API (seed 003): `/messages/ws/` (`ws`), and the
 * long-poll / SSE endpoint `GET /messages/api/events/` (`http`, registered under
 * `/messages/api`). All three send the frames of `src/protocol/messages-frames.ts`, encoded
 * once per event by the encoder installed here.
 */
export function liveFace(deps: FaceDeps, connections: ConnectionCap): { ws: WsRoute; http: FastifyPluginAsync } {
  const serializers = serializersOf(deps.core).live ?? {};
  deps.hub.setEncoder('messages', (event) => encodeMessagesEvent(event, serializers));
  return { ws: messagesWsRoute(deps), http: liveHttp(deps, connections) };
}
