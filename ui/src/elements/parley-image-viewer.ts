import { LitElement, css, html, nothing } from 'lit';
import type { WireAttachment } from '../../../client/src/index.js';
import { I18nController } from '../controllers/i18n-controller.js';
import { controls } from '../styles/theme.js';

/**
 * The full image of an attachment in a modal dialog (native `<dialog>`: the focus stays inside
 * and Escape closes it). Gives the focus back to what had it before when it closes. Fires
 * `parley-close`.
 */
export class ParleyImageViewer extends LitElement {
  static override properties = {
    attachment: { attribute: false },
  };

  attachment: WireAttachment | null = null;
  private opener: HTMLElement | null = null;
  private readonly i18n = new I18nController(this);

  static override styles = [
    controls,
    css`
      dialog {
        border: 1px solid var(--p-border);
        border-radius: var(--p-radius);
        background: var(--p-bg);
        color: var(--p-fg);
        padding: 0.6rem;
        max-width: 96vw;
        max-height: 96vh;
      }
      dialog::backdrop {
        background: rgb(0 0 0 / 0.7);
      }
      .bar {
        display: flex;
        align-items: center;
        gap: 0.5rem;
        margin-bottom: 0.5rem;
      }
      h2 {
        flex: 1;
        margin: 0;
        font-size: 1rem;
        overflow: hidden;
        text-overflow: ellipsis;
        white-space: nowrap;
      }
      img {
        display: block;
        max-width: calc(96vw - 2rem);
        max-height: calc(96vh - 5rem);
        width: auto;
        height: auto;
        margin: 0 auto;
      }
    `,
  ];

  override connectedCallback(): void {
    super.connectedCallback();
    this.opener = deepActiveElement();
  }

  override firstUpdated(): void {
    this.renderRoot.querySelector('dialog')?.showModal();
  }

  override render() {
    const a = this.attachment;
    if (!a) return nothing;
    const t = this.i18n;
    return html`<dialog aria-labelledby="viewer-title" @close=${this.closed}>
      <div class="bar">
        <h2 id="viewer-title">${a.name}</h2>
        ${a.url ? html`<a href=${a.url} download=${a.name}>${t.t('viewer.download')}</a>` : nothing}
        <button type="button" class="close" @click=${() => this.renderRoot.querySelector('dialog')?.close()}>${t.t('viewer.close')}</button>
      </div>
      <img src=${a.url ?? a.thumbnail_url ?? ''} alt=${a.name} width=${a.width ?? nothing} height=${a.height ?? nothing} />
    </dialog>`;
  }

  private closed = () => {
    const opener = this.opener;
    this.dispatchEvent(new CustomEvent('parley-close', { bubbles: true, composed: true }));
    // Back where the reader was (the thumbnail), also when the browser does not do it for a dialog inside a shadow root.
    if (opener?.isConnected) opener.focus();
  };
}

/** The focused element, looking inside shadow roots. */
function deepActiveElement(): HTMLElement | null {
  let el: Element | null = document.activeElement;
  while (el?.shadowRoot?.activeElement) el = el.shadowRoot.activeElement;
  return el instanceof HTMLElement ? el : null;
}

customElements.define('parley-image-viewer', ParleyImageViewer);
