export { Accounts } from './accounts.js';
export type { AccountsOptions, RegisterInput } from './accounts.js';
export { hashPassword, verifyPassword } from './passwords.js';
export { hashToken, newToken } from './tokens.js';
export { RequestAuthenticator, parseAuthorization } from './host-auth.js';
export type { AuthOutcome, Credentials, HostAuthenticate, RequestAuthenticatorOptions } from './host-auth.js';
export { JWT_ALGORITHMS, JwtRejected, JwtVerifier, looksLikeJwt, resolveJwtSettings } from './jwt.js';
export type { JwtAlgorithm, JwtClaimNames, JwtConfigInput, JwtSettings } from './jwt.js';
export { Revocations, type Revocation } from './revocations.js';
