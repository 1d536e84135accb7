import { css } from 'lit';

/** The frame shared by both widgets; size and colours come from `--parley-*` custom properties. */
export const widgetFrame = css`
  :host {
    display: block;
    height: var(--parley-widget-height, 28rem);
    border: 1px solid var(--p-border);
    border-radius: var(--p-radius);
    overflow: hidden;
    font-size: 15px;
  }
  .frame {
    display: flex;
    flex-direction: column;
    height: 100%;
  }
  .bar {
    display: flex;
    justify-content: flex-end;
    padding: 0.2rem 0.4rem 0;
  }
  parley-conversation {
    flex: 1;
    min-height: 0;
  }
  .note {
    padding: 1rem;
  }
`;
