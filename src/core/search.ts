import type { CoreContext } from './context.js';
import { invalid } from './errors.js';
import type { SearchTerm } from './ports/store.js';
import type { SearchHit, User } from './types.js';

const MAX_TERMS = 16;

/**
 * Parses a search box query: `"exact phrase"` is a phrase, a word ending in `*` is a prefix,
 * and the last bare word is a prefix too (search as you type). Punctuation separates words.
 */
export function parseSearchQuery(q: string): SearchTerm[] {
  const terms: SearchTerm[] = [];
  const re = /"([^"]*)"|(\S+)/g;
  const words = (s: string): string[] => s.toLowerCase().split(/[^\p{L}\p{N}_]+/u).filter(Boolean);
  let match: RegExpExecArray | null;
  while ((match = re.exec(q)) !== null) {
    if (match[1] !== undefined) {
      const w = words(match[1]);
      if (w.length > 0) terms.push({ words: w, prefix: false });
    } else if (match[2] !== undefined) {
      const raw = match[2];
      const w = words(raw);
      w.forEach((word, i) => terms.push({ words: [word], prefix: i === w.length - 1 && raw.endsWith('*') }));
    }
  }
  const last = terms[terms.length - 1];
  if (last && last.words.length === 1 && !q.trimEnd().endsWith('"')) last.prefix = true;
  return terms.slice(0, MAX_TERMS);
}

/** Full-text search over the messages a user can see. */
export class Search {
  constructor(private readonly ctx: CoreContext) {}

  async messages(actor: User, q: string, limit: number): Promise<SearchHit[]> {
    const terms = parseSearchQuery(q);
    if (terms.length === 0) throw invalid('q', 'Enter at least one word to search for.');
    return this.ctx.store.searchMessages(actor.id, terms, limit);
  }
}
