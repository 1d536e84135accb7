import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { ParleyClient } from '../../../client/src/index.js';
import { ClientEventsController } from './client-events-controller.js';

/**
 * Presence of users, from the SDK (`client.presence()`), re-rendering the host when it changes.
 * The SDK knows only the changes since it connected: a user never seen is shown offline.
 */
export class PresenceController implements ReactiveController {
  constructor(
    host: ReactiveControllerHost,
    private readonly clientOf: () => ParleyClient | null,
  ) {
    host.addController(this);
    new ClientEventsController(host, clientOf, { presence: () => host.requestUpdate() });
  }

  hostConnected(): void {}

  isOnline(userId: number): boolean {
    return this.clientOf()?.presence(userId)?.online ?? false;
  }
}
