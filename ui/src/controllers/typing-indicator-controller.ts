import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { ParleyClient } from '../../../client/src/index.js';
import { ClientEventsController } from './client-events-controller.js';

/**
 * Who is typing in one chat, from the SDK's `typing` events (the viewer excluded). An entry
 * also ends by itself if the "stopped" event never comes.
 */
export class TypingIndicatorController implements ReactiveController {
  private readonly typers = new Map<number, { name: string; timer: ReturnType<typeof setTimeout> }>();

  constructor(
    private readonly host: ReactiveControllerHost,
    clientOf: () => ParleyClient | null,
    private readonly chatId: () => number | null,
    private readonly selfId: () => number | null,
    private readonly nameOf: (userId: number, username: string) => string,
  ) {
    host.addController(this);
    new ClientEventsController(host, clientOf, {
      typing: (e) => {
        if (e.chat_id !== this.chatId() || e.user_id === this.selfId()) return;
        this.drop(e.user_id);
        if (e.is_typing) {
          const timer = setTimeout(() => {
            this.drop(e.user_id);
            this.host.requestUpdate();
          }, 8000);
          this.typers.set(e.user_id, { name: this.nameOf(e.user_id, e.username), timer });
        }
        this.host.requestUpdate();
      },
      new_message: (e) => {
        if (e.chat_id === this.chatId() && this.typers.has(e.message.sender.id)) {
          this.drop(e.message.sender.id);
          this.host.requestUpdate();
        }
      },
    });
  }

  /** Names of the people typing now. */
  get names(): string[] {
    return [...this.typers.values()].map((t) => t.name);
  }

  clear(): void {
    for (const id of [...this.typers.keys()]) this.drop(id);
  }

  hostDisconnected(): void {
    this.clear();
  }

  private drop(userId: number): void {
    const t = this.typers.get(userId);
    if (t) clearTimeout(t.timer);
    this.typers.delete(userId);
  }
}
