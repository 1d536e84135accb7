export { Accounts } from './accounts.js';
export type { AccountsOptions, RegisterInput } from './accounts.js';
export { hashPassword, verifyPassword } from './passwords.js';
export { hashToken, newToken } from './tokens.js';
