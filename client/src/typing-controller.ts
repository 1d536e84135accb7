/** Timing of a `TypingController`. */
export interface TypingControllerOptions {
  /**
   * While keystrokes continue, "typing" is sent again this often, so the server (which ends
   * an indicator after `typingTimeoutSeconds`, 6 s by default) keeps showing it. Default 3 s.
   */
  refreshMs?: number;
  /** After this long without a keystroke, "stopped typing" is sent. Default 4 s. */
  idleMs?: number;
}

/**
 * Turns keystrokes into few typing notifications: one "typing" at the first keystroke, a
 * refresh every `refreshMs` while keystrokes continue, and "stopped" after `idleMs` of quiet,
 * on `stop()` (e.g. when the message is sent) or on `dispose()`. Notifications are best
 * effort: a failed one is dropped, and the next keystroke tries again.
 *
 * @example
 * const typing = client.typingController(chatId);
 * input.addEventListener('input', () => typing.keystroke());
 * form.addEventListener('submit', () => typing.stop());
 */
export class TypingController {
  private typing = false;
  private lastSentAt = 0;
  private idleTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly refreshMs: number;
  private readonly idleMs: number;

  constructor(
    private readonly notify: (isTyping: boolean) => Promise<void>,
    options: TypingControllerOptions = {},
    private readonly now: () => number = Date.now,
  ) {
    this.refreshMs = options.refreshMs ?? 3000;
    this.idleMs = options.idleMs ?? 4000;
  }

  /** Whether this controller last told the server "typing". */
  get active(): boolean {
    return this.typing;
  }

  /** Call on every keystroke (or input event). */
  keystroke(): void {
    const now = this.now();
    if (!this.typing || now - this.lastSentAt >= this.refreshMs) {
      this.typing = true;
      this.lastSentAt = now;
      this.send(true);
    }
    if (this.idleTimer !== null) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.stop(), this.idleMs);
  }

  /** Says "stopped typing" now, if "typing" was said. */
  stop(): void {
    if (this.idleTimer !== null) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    if (!this.typing) return;
    this.typing = false;
    this.send(false);
  }

  /** Stops and releases the timer; call when the input goes away. */
  dispose(): void {
    this.stop();
  }

  private send(isTyping: boolean): void {
    this.notify(isTyping).catch(() => {
      // Best effort: let the next keystroke send "typing" again.
      if (isTyping) this.lastSentAt = 0;
    });
  }
}
