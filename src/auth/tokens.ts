import { createHash, randomBytes } from 'node:crypto';

/**
 * API and session tokens are 32 random bytes. Only their SHA-256 is stored, so a leaked
 * database does not leak usable tokens; a fast hash is enough for 256 bits of randomness.
 */
export const newToken = (): string => randomBytes(32).toString('base64url');
export const hashToken = (token: string): string => createHash('sha256').update(token).digest('base64url');
