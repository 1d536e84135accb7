import { css } from 'lit';

/**
 * Design tokens, set on the outermost element (the page or a widget's host) and inherited by
 * every element inside through the shadow roots. A host page themes a widget by setting the
 * public `--parley-*` properties on it, e.g. `parley-room { --parley-accent: #7c3aed; }`.
 * Light by default, dark when the system prefers it, and `theme="light|dark"` forces one.
 * Colour pairs are chosen for WCAG AA contrast (4.5:1 for text).
 */
export const themeTokens = css`
  :host {
    --p-bg: var(--parley-bg, #ffffff);
    --p-surface: var(--parley-surface, #f1f5f9);
    --p-fg: var(--parley-fg, #0f172a);
    --p-muted: var(--parley-muted, #475569);
    --p-border: var(--parley-border, #cbd5e1);
    --p-accent: var(--parley-accent, #1d4ed8);
    --p-on-accent: var(--parley-on-accent, #ffffff);
    --p-mine: var(--parley-mine, #dbeafe);
    --p-danger: var(--parley-danger, #b91c1c);
    --p-online: var(--parley-online, #15803d);
    --p-mark: var(--parley-mark, #fde68a);
    --p-focus: var(--parley-focus, #1d4ed8);
    --p-radius: var(--parley-radius, 0.6rem);
    --p-font: var(--parley-font, system-ui, -apple-system, 'Segoe UI', sans-serif);
    color-scheme: light;
    color: var(--p-fg);
    background: var(--p-bg);
    font-family: var(--p-font);
  }
  @media (prefers-color-scheme: dark) {
    :host(:not([theme='light'])) {
      --p-bg: var(--parley-bg-dark, #0b1120);
      --p-surface: var(--parley-surface-dark, #1e293b);
      --p-fg: var(--parley-fg-dark, #e2e8f0);
      --p-muted: var(--parley-muted-dark, #a3b1c6);
      --p-border: var(--parley-border-dark, #475569);
      --p-accent: var(--parley-accent-dark, #93c5fd);
      --p-on-accent: var(--parley-on-accent-dark, #0b1120);
      --p-mine: var(--parley-mine-dark, #1e3a8a);
      --p-danger: var(--parley-danger-dark, #fca5a5);
      --p-online: var(--parley-online-dark, #4ade80);
      --p-mark: var(--parley-mark-dark, #854d0e);
      --p-focus: var(--parley-focus-dark, #93c5fd);
      color-scheme: dark;
    }
  }
  :host([theme='dark']) {
    --p-bg: var(--parley-bg-dark, #0b1120);
    --p-surface: var(--parley-surface-dark, #1e293b);
    --p-fg: var(--parley-fg-dark, #e2e8f0);
    --p-muted: var(--parley-muted-dark, #a3b1c6);
    --p-border: var(--parley-border-dark, #475569);
    --p-accent: var(--parley-accent-dark, #93c5fd);
    --p-on-accent: var(--parley-on-accent-dark, #0b1120);
    --p-mine: var(--parley-mine-dark, #1e3a8a);
    --p-danger: var(--parley-danger-dark, #fca5a5);
    --p-online: var(--parley-online-dark, #4ade80);
    --p-mark: var(--parley-mark-dark, #854d0e);
    --p-focus: var(--parley-focus-dark, #93c5fd);
    color-scheme: dark;
  }
`;

/** Shared look of controls inside every element. */
export const controls = css`
  :host {
    box-sizing: border-box;
  }
  *,
  *::before,
  *::after {
    box-sizing: inherit;
  }
  button,
  input,
  textarea {
    font: inherit;
    color: inherit;
  }
  button {
    cursor: pointer;
    border: 1px solid var(--p-border);
    background: var(--p-surface);
    color: var(--p-fg);
    border-radius: 0.4rem;
    padding: 0.35rem 0.7rem;
  }
  button.primary {
    background: var(--p-accent);
    color: var(--p-on-accent);
    border-color: var(--p-accent);
    font-weight: 600;
  }
  button.icon {
    background: transparent;
    border-color: transparent;
    padding: 0.2rem 0.45rem;
    line-height: 1;
  }
  button.link {
    background: none;
    border: none;
    color: var(--p-accent);
    text-decoration: underline;
    padding: 0;
  }
  input,
  textarea {
    background: var(--p-bg);
    border: 1px solid var(--p-border);
    border-radius: 0.4rem;
    padding: 0.45rem 0.6rem;
    width: 100%;
  }
  :focus-visible {
    outline: 3px solid var(--p-focus);
    outline-offset: 2px;
  }
  .sr-only {
    position: absolute;
    width: 1px;
    height: 1px;
    margin: -1px;
    padding: 0;
    overflow: hidden;
    clip: rect(0 0 0 0);
    white-space: nowrap;
    border: 0;
  }
  .muted {
    color: var(--p-muted);
  }
  .dot {
    display: inline-block;
    width: 0.6rem;
    height: 0.6rem;
    border-radius: 50%;
    border: 2px solid var(--p-muted);
    vertical-align: middle;
  }
  .dot.online {
    background: var(--p-online);
    border-color: var(--p-online);
  }
`;
