import type { FastifyPluginAsync } from 'fastify';
import type { FaceDeps } from '../http/face-deps.js';
import type { WsRoute } from '../ws/upgrade.js';

/** Live events of the Django Messaging API: `/messages/ws/`, long-poll and SSE. */
export function liveFace(_deps: FaceDeps): { ws: WsRoute; http: FastifyPluginAsync } {
  return {
    ws: { path: '/messages/ws/', face: 'messages', unauthenticatedCloseCode: 4001, onConnection: () => {} },
    http: async () => {},
  };
}
