import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { ParleyClient } from '../../../client/src/index.js';
import { ClientEventsController } from './client-events-controller.js';

/**
 * Presence of users, from the SDK (`client.presence()`), re-rendering the host when it changes.
 * The server sends the presence of everyone online who shares a conversation right after each
 * (re)connect, and the SDK forgets older state on a WebSocket `ready`: re-rendering on `ready`
 * too drops dots of people who went offline while the connection was down.
 */
export class PresenceController implements ReactiveController {
  constructor(
    host: ReactiveControllerHost,
    private readonly clientOf: () => ParleyClient | null,
  ) {
    host.addController(this);
    new ClientEventsController(host, clientOf, { presence: () => host.requestUpdate(), ready: () => host.requestUpdate() });
  }

  hostConnected(): void {}

  isOnline(userId: number): boolean {
    return this.clientOf()?.presence(userId)?.online ?? false;
  }
}
