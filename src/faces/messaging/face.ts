import type { FaceDeps } from '../http/face-deps.js';
import type { WsRoute } from '../ws/upgrade.js';

/** The realtime_chat_messaging protocol (seeds 000, 001) on `/<websocketPath>`. */
export function messagingFace(deps: FaceDeps): WsRoute {
  return {
    path: `/${deps.config.websocketPath}`,
    face: 'messaging',
    unauthenticatedCloseCode: 4001,
    onConnection: () => {},
  };
}
