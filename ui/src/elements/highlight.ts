import { html, type TemplateResult } from 'lit';

const entities: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", '#x27': "'", apos: "'" };

/** Undoes HTML escaping (named entities above and numeric ones) into plain text. */
export function unescapeHtml(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|\w+);/gi, (whole, name: string) => {
    const known = entities[name.toLowerCase()];
    if (known !== undefined) return known;
    if (name[0] === '#') {
      const code = name[1]?.toLowerCase() === 'x' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
      return Number.isFinite(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return whole;
  });
}

/**
 * Renders a server search snippet (escaped HTML with `<mark>…</mark>` around matches) without
 * ever parsing it as HTML: it is split on the two mark tokens only, everything else is
 * unescaped and bound as text, so nothing in it can become markup.
 */
export function renderHighlighted(snippet: string): TemplateResult[] {
  const out: TemplateResult[] = [];
  let marked = false;
  for (const part of snippet.split(/(<mark>|<\/mark>)/)) {
    if (part === '<mark>') marked = true;
    else if (part === '</mark>') marked = false;
    else if (part !== '') out.push(marked ? html`<mark>${unescapeHtml(part)}</mark>` : html`${unescapeHtml(part)}`);
  }
  return out;
}
