const CURSOR_PREFIX = 'c1:';

/**
 * Cursors are opaque to clients: base64url of a versioned position in the event log, so the
 * format can change without breaking a client that only stores and returns it.
 */
export function encodeCursor(id: number): string {
  return Buffer.from(`${CURSOR_PREFIX}${id}`).toString('base64url');
}

/** The log position of a cursor, or null if it is not one of ours. */
export function decodeCursor(cursor: string): number | null {
  if (cursor.length > 64) return null;
  const text = Buffer.from(cursor, 'base64url').toString();
  if (!text.startsWith(CURSOR_PREFIX)) return null;
  const id = Number(text.slice(CURSOR_PREFIX.length));
  return Number.isSafeInteger(id) && id >= 0 ? id : null;
}
