/** Text helpers shared by the core and the stores. Pure: no I/O. */

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes the five characters that matter in HTML text and attribute values. */
export const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);

/** Markers a store puts around matches in a snippet; private-use characters no user types. */
export const MATCH_START = '\u{E000}';
export const MATCH_END = '\u{E001}';

/**
 * Turns a snippet with MATCH_START/MATCH_END markers into safe HTML: the user's text is
 * escaped first, then the markers become `<mark>` tags.
 */
export const markedSnippetToHtml = (snippet: string): string =>
  escapeHtml(mergeAdjacentMatches(snippet)).replaceAll(MATCH_START, '<mark>').replaceAll(MATCH_END, '</mark>');

/**
 * Matches separated only by spaces become one highlight ("<mark>two words</mark>"), so a
 * phrase reads the same whichever store marked its words one by one.
 */
const mergeAdjacentMatches = (snippet: string): string =>
  snippet.replace(new RegExp(`${MATCH_END}([ \\t]+)${MATCH_START}`, 'gu'), '$1');

/** Removes the markers, e.g. from user input, so a user cannot forge highlights. */
export const stripMarkers = (text: string): string =>
  text.replaceAll(MATCH_START, '').replaceAll(MATCH_END, '');
