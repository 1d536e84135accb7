import { LitElement, css, html, nothing, type PropertyValues } from 'lit';
import type { ParleyClient, TypingController } from '../../../client/src/index.js';
import { I18nController } from '../controllers/i18n-controller.js';
import { controls } from '../styles/theme.js';

/**
 * The message box: Enter sends, Shift+Enter makes a new line. Sends through the SDK (retried,
 * never duplicated), tells the chat you are typing through the SDK's typing controller, and
 * fires `parley-sent` `{message}` with the stored message.
 */
export class ParleyComposer extends LitElement {
  static override properties = {
    client: { attribute: false },
    chatId: { attribute: false },
    failed: { state: true },
    sending: { state: true },
  };

  client: ParleyClient | null = null;
  chatId: number | null = null;
  failed = false;
  sending = false;
  private typing: TypingController | null = null;
  private readonly i18n = new I18nController(this);

  static override styles = [
    controls,
    css`
      :host {
        display: block;
        border-top: 1px solid var(--p-border);
        padding: 0.5rem 0.75rem;
      }
      form {
        display: flex;
        gap: 0.5rem;
        align-items: flex-end;
      }
      textarea {
        flex: 1;
        resize: none;
        min-height: 2.6rem;
        max-height: 10rem;
      }
      .error {
        color: var(--p-danger);
        font-size: 0.85rem;
        margin: 0.3rem 0 0;
      }
    `,
  ];

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('chatId') || changed.has('client')) {
      this.typing?.dispose();
      this.typing = this.client && this.chatId !== null ? this.client.typingController(this.chatId) : null;
    }
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.typing?.dispose();
    this.typing = null;
  }

  override render() {
    const t = this.i18n;
    return html`<form @submit=${this.submit}>
        <label class="sr-only" for="box">${t.t('compose.label')}</label>
        <textarea id="box" rows="1" placeholder=${t.t('compose.placeholder')} @keydown=${this.key} @input=${this.input}></textarea>
        <button type="submit" class="primary" ?disabled=${this.sending}>${t.t('compose.send')}</button>
      </form>
      ${this.failed ? html`<p class="error" role="alert">${t.t('compose.failed')}</p>` : nothing}`;
  }

  /** Puts the keyboard focus in the box. */
  override focus(): void {
    this.renderRoot.querySelector('textarea')?.focus();
  }

  private get box(): HTMLTextAreaElement | null {
    return this.renderRoot.querySelector('textarea');
  }

  private key = (e: KeyboardEvent) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      void this.send();
    }
  };

  private input = () => {
    this.typing?.keystroke();
    const box = this.box;
    if (box) {
      box.style.height = 'auto';
      box.style.height = `${box.scrollHeight + 2}px`;
    }
  };

  private submit = (e: Event) => {
    e.preventDefault();
    void this.send();
  };

  private async send(): Promise<void> {
    const box = this.box;
    const content = box?.value.trim() ?? '';
    if (!box || !content || !this.client || this.chatId === null) return;
    this.typing?.stop();
    this.failed = false;
    this.sending = true;
    box.value = '';
    box.style.height = 'auto';
    try {
      const message = await this.client.send(this.chatId, content);
      this.dispatchEvent(new CustomEvent('parley-sent', { detail: { message }, bubbles: true, composed: true }));
    } catch {
      box.value = content;
      this.failed = true;
    } finally {
      this.sending = false;
      box.focus();
    }
  }
}

customElements.define('parley-composer', ParleyComposer);
