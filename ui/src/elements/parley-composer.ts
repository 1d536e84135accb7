import { LitElement, css, html, nothing, type PropertyValues } from 'lit';
import { repeat } from 'lit/directives/repeat.js';
import { type ChatMessage, type ParleyClient, ParleyHttpError, type TypingController, type WireAttachment } from '../../../client/src/index.js';
import { I18nController } from '../controllers/i18n-controller.js';
import { controls } from '../styles/theme.js';
import { formatBytes } from './file-size.js';
import { fileIcon, paperclipIcon } from './icons.js';

/** A file picked, dropped or pasted, on its way to the server or waiting to be sent. */
interface PendingFile {
  key: number;
  name: string;
  size: number;
  /** Percent sent, 0–100. */
  progress: number;
  state: 'uploading' | 'ready' | 'failed';
  error: string;
  attachment: WireAttachment | null;
  /** A local preview of an image (a `data:` URL: the page's CSP allows those, not `blob:`). */
  preview: string | null;
  abort: AbortController;
}

let nextKey = 1;
/** Larger images get no local preview in the tray (it would be read whole into memory). */
const PREVIEW_MAX_BYTES = 5_000_000;

/**
 * The message box: Enter sends, Shift+Enter makes a new line. Files come from the attach
 * button, from pasting an image, or from `addFiles()` (the conversation's drop target); each
 * uploads at once with a progress bar in the tray above the box, and can be removed before
 * sending. `replyTo()` quotes a message above the box until sent or cancelled. Sends through
 * the SDK (retried, never duplicated), tells the chat you are typing through the SDK's typing
 * controller, and fires `parley-sent` `{message}` with the stored message.
 */
export class ParleyComposer extends LitElement {
  static override properties = {
    client: { attribute: false },
    chatId: { attribute: false },
    failed: { state: true },
    sending: { state: true },
    pending: { state: true },
    replying: { state: true },
    notice: { state: true },
  };

  client: ParleyClient | null = null;
  chatId: number | null = null;
  failed = false;
  sending = false;
  pending: PendingFile[] = [];
  replying: ChatMessage | null = null;
  notice = '';
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
      .replying {
        display: flex;
        align-items: center;
        gap: 0.5rem;
        margin-bottom: 0.4rem;
        padding: 0.2rem 0.5rem;
        border-inline-start: 3px solid var(--p-accent);
        background: var(--p-surface);
        font-size: 0.85rem;
      }
      .replying .quoted {
        flex: 1;
        min-width: 0;
        overflow: hidden;
        text-overflow: ellipsis;
        white-space: nowrap;
      }
      ul.tray {
        list-style: none;
        display: flex;
        flex-wrap: wrap;
        gap: 0.4rem;
        margin: 0 0 0.4rem;
        padding: 0;
      }
      ul.tray li {
        display: grid;
        grid-template-columns: auto 1fr auto;
        align-items: center;
        gap: 0.2rem 0.4rem;
        padding: 0.3rem 0.4rem;
        border: 1px solid var(--p-border);
        border-radius: var(--p-radius);
        max-width: 16rem;
        font-size: 0.85rem;
      }
      ul.tray li.failed {
        border-color: var(--p-danger);
      }
      ul.tray img,
      ul.tray .icon-file {
        width: 2.5rem;
        height: 2.5rem;
        object-fit: cover;
        border-radius: 0.3rem;
        grid-row: span 2;
        display: grid;
        place-items: center;
      }
      .fname {
        overflow: hidden;
        text-overflow: ellipsis;
        white-space: nowrap;
      }
      ul.tray progress {
        width: 100%;
        grid-column: 2;
      }
      ul.tray .error {
        grid-column: 1 / -1;
        margin: 0;
      }
      ul.tray .size {
        grid-column: 2;
        font-size: 0.8rem;
      }
      ul.tray button {
        grid-row: 1;
        grid-column: 3;
      }
    `,
  ];

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('chatId') || changed.has('client')) {
      this.typing?.dispose();
      this.typing = this.client && this.chatId !== null ? this.client.typingController(this.chatId) : null;
    }
    if (changed.has('chatId') && changed.get('chatId') !== undefined) {
      // Another chat: files and the reply belonged to the one before.
      this.clearPending();
      this.replying = null;
    }
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.typing?.dispose();
    this.typing = null;
    this.clearPending();
  }

  override render() {
    const t = this.i18n;
    const uploading = this.pending.some((p) => p.state === 'uploading');
    return html`${this.replying ? this.renderReplying(this.replying) : nothing}
      ${this.pending.length
        ? html`<ul class="tray" aria-label=${t.t('compose.attachments')}>
            ${repeat(
              this.pending,
              (p) => p.key,
              (p) => this.renderPending(p),
            )}
          </ul>`
        : nothing}
      <form @submit=${this.submit}>
        <input type="file" id="file" multiple hidden @change=${this.picked} />
        <button type="button" class="icon attach" aria-label=${t.t('compose.attach')} title=${t.t('compose.attach')} @click=${this.openPicker}>
          ${paperclipIcon}
        </button>
        <label class="sr-only" for="box">${t.t('compose.label')}</label>
        <textarea id="box" rows="1" placeholder=${t.t('compose.placeholder')} @keydown=${this.key} @input=${this.input} @paste=${this.paste}></textarea>
        <button type="submit" class="primary" ?disabled=${this.sending || uploading}>${t.t('compose.send')}</button>
      </form>
      ${this.failed ? html`<p class="error" role="alert">${t.t('compose.failed')}</p>` : nothing}
      ${this.notice ? html`<p class="error" role="alert">${this.notice}</p>` : nothing}`;
  }

  private renderReplying(m: ChatMessage) {
    const t = this.i18n;
    const name = m.sender.display_name || m.sender.username;
    return html`<div class="replying">
      <span class="quoted"><strong>${t.t('compose.replyingTo', { name })}</strong> <span class="muted">${m.content || (m.attachments ?? []).map((a) => a.name).join(', ')}</span></span>
      <button type="button" class="icon cancel-reply" aria-label=${t.t('compose.cancelReply')} title=${t.t('compose.cancelReply')} @click=${this.cancelReply}>
        <span aria-hidden="true">✕</span>
      </button>
    </div>`;
  }

  private renderPending(p: PendingFile) {
    const t = this.i18n;
    return html`<li class=${p.state}>
      ${p.preview ? html`<img src=${p.preview} alt="" width="40" height="40" @error=${() => this.patch(p.key, { preview: null })} />` : html`<span class="icon-file">${fileIcon}</span>`}
      <span class="fname" title=${p.name}>${p.name}</span>
      <button type="button" class="icon remove" aria-label=${t.t('compose.removeFile', { name: p.name })} title=${t.t('compose.removeFile', { name: p.name })} @click=${() => this.removeFile(p.key)}>
        <span aria-hidden="true">✕</span>
      </button>
      ${p.state === 'uploading'
        ? html`<progress max="100" .value=${p.progress} aria-label=${t.t('compose.uploading', { name: p.name })}></progress>`
        : p.state === 'ready'
          ? html`<span class="size muted">${formatBytes(t.locale, p.size)}<span class="sr-only">, ${t.t('compose.uploaded', { name: p.name })}</span></span>`
          : nothing}
      ${p.state === 'failed' ? html`<p class="error" role="alert">${t.t('compose.uploadFailed', { detail: p.error })}</p>` : nothing}
    </li>`;
  }

  /** Puts the keyboard focus in the box. */
  override focus(): void {
    this.renderRoot.querySelector('textarea')?.focus();
  }

  /** Quotes a message above the box: the next message sent replies to it. */
  replyTo(message: ChatMessage): void {
    this.replying = message;
    this.focus();
  }

  /** Uploads files to send with the next message (each shows in the tray with its progress). */
  addFiles(files: Iterable<File>): void {
    const client = this.client;
    if (!client) return;
    this.notice = '';
    for (const file of files) {
      const p: PendingFile = {
        key: nextKey++,
        name: file.name || 'file',
        size: file.size,
        progress: 0,
        state: 'uploading',
        error: '',
        attachment: null,
        preview: null,
        abort: new AbortController(),
      };
      this.pending = [...this.pending, p];
      if (/^image\/(png|jpeg|gif|webp)$/.test(file.type) && file.size <= PREVIEW_MAX_BYTES) {
        const reader = new FileReader();
        reader.onload = () => {
          if (typeof reader.result === 'string') this.patch(p.key, { preview: reader.result });
        };
        reader.readAsDataURL(file);
      }
      client
        .uploadFile(file, {
          signal: p.abort.signal,
          onProgress: ({ loaded, total }) => this.patch(p.key, { progress: total ? Math.round((loaded / total) * 100) : 0 }),
        })
        .then(
          (attachment) => this.patch(p.key, { state: 'ready', progress: 100, attachment }),
          (err: unknown) => {
            if (p.abort.signal.aborted) return;
            this.patch(p.key, { state: 'failed', error: detailOf(err) });
          },
        );
    }
  }

  private patch(key: number, change: Partial<PendingFile>): void {
    this.pending = this.pending.map((p) => (p.key === key ? { ...p, ...change } : p));
  }

  private removeFile(key: number): void {
    const p = this.pending.find((x) => x.key === key);
    if (!p) return;
    p.abort.abort();
    this.pending = this.pending.filter((x) => x.key !== key);
    this.focus();
  }

  private clearPending(): void {
    for (const p of this.pending) {
      if (p.state === 'uploading') p.abort.abort();
    }
    this.pending = [];
  }

  private get box(): HTMLTextAreaElement | null {
    return this.renderRoot.querySelector('textarea');
  }

  private openPicker = () => {
    this.renderRoot.querySelector<HTMLInputElement>('input[type="file"]')?.click();
  };

  private picked = (e: Event) => {
    const input = e.target as HTMLInputElement;
    if (input.files?.length) this.addFiles([...input.files]);
    // Picking the same file again must fire `change` again.
    input.value = '';
    this.focus();
  };

  private paste = (e: ClipboardEvent) => {
    const files = [...(e.clipboardData?.files ?? [])];
    // Text wins: office programs put a picture of the copied text next to it on the clipboard.
    if (!files.length || e.clipboardData?.getData('text/plain')) return;
    // A pasted image (a screenshot, a copied picture) is attached rather than pasted as a name.
    e.preventDefault();
    this.addFiles(files);
  };

  private cancelReply = () => {
    this.replying = null;
    this.focus();
  };

  private key = (e: KeyboardEvent) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      void this.send();
    } else if (e.key === 'Escape' && this.replying) {
      e.preventDefault();
      this.replying = null;
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
    if (!box || !this.client || this.chatId === null || this.sending) return;
    if (this.pending.some((p) => p.state === 'uploading')) {
      this.notice = this.i18n.t('compose.waitUploads');
      return;
    }
    const ready = this.pending.filter((p) => p.state === 'ready' && p.attachment);
    if (!content && !ready.length) return;
    const replying = this.replying;
    this.typing?.stop();
    this.failed = false;
    this.notice = '';
    this.sending = true;
    box.value = '';
    box.style.height = 'auto';
    try {
      const message = await this.client.send(this.chatId, content, {
        ...(ready.length ? { attachmentIds: ready.map((p) => (p.attachment as WireAttachment).id) } : {}),
        ...(replying ? { parentId: replying.id } : {}),
      });
      this.clearPending();
      if (this.replying === replying) this.replying = null;
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

/** What the server said about a refused upload (413/415 `{detail}`), else the error's message. */
function detailOf(err: unknown): string {
  if (err instanceof ParleyHttpError) {
    const body = err.body;
    if (typeof body === 'object' && body !== null && 'detail' in body && typeof body.detail === 'string') return body.detail;
    return `HTTP ${err.status}`;
  }
  return err instanceof Error ? err.message : String(err);
}

customElements.define('parley-composer', ParleyComposer);
