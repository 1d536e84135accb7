import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { ParleyClient, ParleyClientEvents } from '../../../client/src/index.js';

type Subscriptions = { [K in keyof ParleyClientEvents]?: (e: ParleyClientEvents[K]) => void };

/**
 * Subscribes a host to SDK events while it is connected to the DOM, and unsubscribes when it
 * leaves, so an element never leaks handlers.
 *
 * @example
 * new ClientEventsController(this, () => this.client, { new_message: (e) => this.add(e.message) });
 */
export class ClientEventsController implements ReactiveController {
  private offs: (() => void)[] = [];
  private bound: ParleyClient | null = null;

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly clientOf: () => ParleyClient | null,
    private readonly subs: Subscriptions,
  ) {
    host.addController(this);
  }

  hostConnected(): void {
    this.bind();
  }

  hostUpdate(): void {
    if (this.clientOf() !== this.bound) this.bind();
  }

  hostDisconnected(): void {
    this.unbind();
  }

  private bind(): void {
    this.unbind();
    const client = this.clientOf();
    this.bound = client;
    if (!client) return;
    for (const [type, handler] of Object.entries(this.subs)) {
      this.offs.push(client.on(type as keyof ParleyClientEvents, handler as never));
    }
  }

  private unbind(): void {
    for (const off of this.offs) off();
    this.offs = [];
    this.bound = null;
  }
}
