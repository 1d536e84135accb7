import { css } from 'lit';

/** The look of the modal dialogs (native `<dialog>`: focus trap and Escape come with it). */
export const dialogStyles = css`
  dialog {
    border: 1px solid var(--p-border);
    border-radius: var(--p-radius);
    background: var(--p-bg);
    color: var(--p-fg);
    width: min(30rem, 94vw);
    padding: 1rem 1.2rem;
  }
  dialog::backdrop {
    background: rgb(0 0 0 / 0.45);
  }
  h2 {
    margin: 0 0 0.75rem;
    font-size: 1.15rem;
  }
  .row {
    display: flex;
    gap: 0.5rem;
    align-items: center;
    margin: 0.5rem 0;
  }
  .row > input {
    flex: 1;
  }
  ul.people {
    list-style: none;
    padding: 0;
    margin: 0.4rem 0;
  }
  ul.people li {
    display: flex;
    align-items: center;
    gap: 0.5rem;
    padding: 0.2rem 0;
  }
  ul.people li span.name {
    flex: 1;
  }
  .footer {
    display: flex;
    justify-content: space-between;
    gap: 0.5rem;
    margin-top: 1rem;
  }
  .danger {
    color: var(--p-danger);
    border-color: var(--p-danger);
  }
  h3 {
    font-size: 0.95rem;
    margin: 1rem 0 0.3rem;
  }
  .error {
    color: var(--p-danger);
  }
`;
