import { ParleyError, invalid } from '../core/errors.js';
import type { Store } from '../core/ports/store.js';
import type { User } from '../core/types.js';
import type { LoginThrottle } from '../limits/index.js';
import { DEFAULT_COST, hashPassword, needsRehash, verifyPassword } from './passwords.js';
import { type Revocations } from './revocations.js';
import { hashToken, newToken } from './tokens.js';

export interface RegisterInput {
  username: string;
  password: string;
  email?: string | undefined;
  displayName?: string | undefined;
}

export interface AccountsOptions {
  store: Store;
  now: () => Date;
  registrationEnabled: boolean;
  sessionTtlDays: number;
  /** scrypt cost of new hashes, log2 N (default 17); weaker stored hashes are replaced at sign-in. */
  passwordHashCost?: number;
  /** Sign-in throttling (`loginThrottle`); none when absent. */
  throttle?: LoginThrottle | null;
  /** Told of every revoked token, so open connections made with it end (`Revocations`). */
  revocations?: Revocations;
}

const USERNAME = /^[\p{L}\p{N}_.@+-]{1,150}$/u;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const PASSWORD_MIN = 8;
const PASSWORD_MAX = 1024;
// A hash to verify against when the user does not exist, so a wrong username takes as long
// as a wrong password and timing does not reveal which usernames exist.
// Made on first use, at the configured cost.
const dummyHashes = new Map<number, Promise<string>>();

/** Built-in accounts: registration, login, tokens. Hosts with their own users skip this. */
export class Accounts {
  constructor(private readonly o: AccountsOptions) {}

  async register(input: RegisterInput): Promise<User> {
    if (!this.o.registrationEnabled) throw new ParleyError('feature_disabled', 'Registration is disabled.');
    const details: Record<string, string[]> = {};
    const username = input.username.trim();
    if (!USERNAME.test(username)) {
      details.username = ['Enter a valid username: up to 150 letters, digits and @/./+/-/_ characters.'];
    }
    const pw = checkPassword(input.password, username);
    if (pw) details.password = [pw];
    const email = (input.email ?? '').trim();
    if (email !== '' && !EMAIL.test(email)) details.email = ['Enter a valid email address.'];
    const displayName = (input.displayName ?? '').trim();
    if (displayName.length > 150) details.display_name = ['Ensure this field has no more than 150 characters.'];
    if (Object.keys(details).length > 0) throw new ParleyError('validation', 'Invalid registration.', details);
    return this.createUser({ username, password: input.password, email, displayName });
  }

  /** Creates a user without the registration switch (CLI, tests, admin). */
  async createUser(input: { username: string; password: string | null; email?: string; displayName?: string }): Promise<User> {
    if (input.password !== null) {
      const pw = checkPassword(input.password, input.username);
      if (pw) throw invalid('password', pw);
    }
    return this.o.store.createUser({
      username: input.username,
      displayName: input.displayName || input.username,
      email: input.email ?? '',
      passwordHash: input.password === null ? null : await hashPassword(input.password, this.cost),
      now: this.o.now(),
    });
  }

  private get cost(): number {
    return this.o.passwordHashCost ?? DEFAULT_COST;
  }

  /**
   * The user for these credentials; one message for unknown user and wrong password. With a
   * throttle, `address` (the client's IP) and the username are counted first (429 when spent).
   * A hash weaker than the configured cost is replaced with a new one.
   */
  async login(username: string, password: string, address = ''): Promise<User> {
    await this.o.throttle?.admit(username, address);
    const user = await this.o.store.getUserByUsername(username.trim());
    let dummy = dummyHashes.get(this.cost);
    if (!dummy) dummyHashes.set(this.cost, (dummy = hashPassword('parley-dummy-password', this.cost)));
    const ok = await verifyPassword(password, user?.passwordHash ?? (await dummy));
    if (!user || !user.passwordHash || !ok || !user.isActive) {
      await this.o.throttle?.failed(username);
      throw new ParleyError('unauthenticated', 'Unable to log in with provided credentials.');
    }
    await this.o.throttle?.succeeded(username);
    if (needsRehash(user.passwordHash, this.cost)) await this.o.store.setPasswordHash(user.id, await hashPassword(password, this.cost));
    const { passwordHash: _drop, ...plain } = user;
    return plain;
  }

  /** Issues a token. API tokens never expire; session tokens last `sessionTtlDays`. */
  async issueToken(user: User, kind: 'api' | 'session'): Promise<string> {
    const token = newToken();
    const now = this.o.now();
    const expiresAt = kind === 'session' ? new Date(now.getTime() + this.o.sessionTtlDays * 86_400_000) : null;
    await this.o.store.createToken({ tokenHash: hashToken(token), userId: user.id, kind, expiresAt, now });
    return token;
  }

  /** A user by username, without the password hash (CLI lookups). */
  async userByUsername(username: string): Promise<User | null> {
    const found = await this.o.store.getUserByUsername(username);
    if (!found) return null;
    const { passwordHash: _drop, ...plain } = found;
    return plain;
  }

  async userForToken(token: string): Promise<User | null> {
    if (token.length === 0 || token.length > 200) return null;
    return this.o.store.getUserByTokenHash(hashToken(token), this.o.now());
  }

  /** Why a token that `userForToken` refused is refused: expired, or not a token at all. */
  async tokenProblem(token: string): Promise<'Token has expired.' | 'Invalid token.'> {
    if (token.length === 0 || token.length > 200) return 'Invalid token.';
    const info = await this.o.store.getTokenInfo(hashToken(token));
    return info?.expiresAt && info.expiresAt <= this.o.now() ? 'Token has expired.' : 'Invalid token.';
  }

  async revoke(token: string): Promise<void> {
    await this.o.store.deleteToken(hashToken(token));
    this.o.revocations?.emit({ token });
  }
}

function checkPassword(password: string, username: string): string | null {
  if (password.length < PASSWORD_MIN) return `This password is too short. It must contain at least ${PASSWORD_MIN} characters.`;
  if (password.length > PASSWORD_MAX) return `Ensure this field has no more than ${PASSWORD_MAX} characters.`;
  if (password.trim() === '') return 'This field may not be blank.';
  if (password.toLowerCase() === username.toLowerCase()) return 'The password is too similar to the username.';
  if (/^\d+$/.test(password)) return 'This password is entirely numeric.';
  return null;
}
