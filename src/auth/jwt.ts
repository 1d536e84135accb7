import { type KeyObject, createPublicKey } from 'node:crypto';
import { errors as joseErrors, jwtVerify } from 'jose';
import type { HostIdentity } from '../core/index.js';

/** The algorithms Parley verifies: HMAC with a shared secret, RSA or ECDSA P-256 with a public key. */
export const JWT_ALGORITHMS = ['HS256', 'RS256', 'ES256'] as const;
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];

/** Claim names a token's user is read from. */
export interface JwtClaimNames {
  /** The host's user id (default `sub`). */
  id: string;
  /** Default `preferred_username`. */
  username: string;
  /** Default `name`. */
  displayName: string;
  /** Default `email`. */
  email: string;
  /** Default `picture`. */
  avatarUrl: string;
}

/** The `jwt` setting as written in the config (every field optional). */
export interface JwtConfigInput {
  secret?: string | undefined;
  publicKey?: string | undefined;
  algorithms?: JwtAlgorithm[] | undefined;
  issuer?: string | undefined;
  audience?: string | undefined;
  claims?: Partial<JwtClaimNames> | undefined;
}

/** The resolved `jwt` setting: one key, the algorithms it allows, the claim names filled in. */
export interface JwtSettings {
  /** Shared secret for HS256 (exactly one of `secret` and `publicKey`). */
  secret?: string;
  /** PEM (SPKI) or JWK JSON public key for RS256 / ES256. */
  publicKey?: string;
  algorithms: JwtAlgorithm[];
  issuer?: string;
  audience?: string;
  claims: JwtClaimNames;
}

const DEFAULT_CLAIMS: JwtClaimNames = {
  id: 'sub',
  username: 'preferred_username',
  displayName: 'name',
  email: 'email',
  avatarUrl: 'picture',
};

/** Reads a PEM (SPKI, or a private key it derives the public one from) or a JWK JSON string. */
function parsePublicKey(text: string): KeyObject {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    const jwk = JSON.parse(trimmed) as Record<string, unknown>;
    return createPublicKey({ key: jwk, format: 'jwk' });
  }
  return createPublicKey(trimmed);
}

/** The algorithm a public key can verify, or why it cannot be used. */
function algorithmOfKey(key: KeyObject): JwtAlgorithm | string {
  if (key.asymmetricKeyType === 'rsa') return 'RS256';
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    return curve === 'prime256v1' ? 'ES256' : `an EC key on ${curve ?? 'an unknown curve'} (ES256 needs P-256)`;
  }
  return `a ${key.asymmetricKeyType ?? 'unknown'} key`;
}

/**
 * Checks and resolves the `jwt` setting. Returns one readable line per problem (never echoing
 * the secret or key), or the settings when there is none.
 */
export function resolveJwtSettings(input: JwtConfigInput): { problems: string[]; settings: JwtSettings | null } {
  const problems: string[] = [];
  const hasSecret = input.secret !== undefined;
  const hasKey = input.publicKey !== undefined;
  if (hasSecret === hasKey) {
    problems.push('jwt: set exactly one of jwt.secret (HS256, env PARLEY_JWT_SECRET) and jwt.publicKey (RS256/ES256, env PARLEY_JWT_PUBLIC_KEY)');
    return { problems, settings: null };
  }
  let keyAlgorithm: JwtAlgorithm = 'HS256';
  if (hasKey) {
    let key: KeyObject;
    try {
      key = parsePublicKey(input.publicKey ?? '');
    } catch (e) {
      const why = e instanceof Error ? e.message.split('\n')[0] : String(e);
      problems.push(`jwt.publicKey: not a PEM (SPKI) public key or a JWK JSON object (${why})`);
      return { problems, settings: null };
    }
    const alg = algorithmOfKey(key);
    if (!(JWT_ALGORITHMS as readonly string[]).includes(alg)) {
      problems.push(`jwt.publicKey: ${alg} cannot verify RS256 or ES256 tokens; use an RSA or EC P-256 public key`);
      return { problems, settings: null };
    }
    keyAlgorithm = alg as JwtAlgorithm;
  }
  const algorithms = input.algorithms && input.algorithms.length > 0 ? [...new Set(input.algorithms)] : [keyAlgorithm];
  for (const alg of algorithms) {
    if (alg === keyAlgorithm) continue;
    problems.push(
      alg === 'HS256'
        ? `jwt.algorithms: HS256 needs jwt.secret, not jwt.publicKey`
        : hasSecret
          ? `jwt.algorithms: ${alg} needs jwt.publicKey, not jwt.secret`
          : `jwt.algorithms: ${alg} does not match the ${keyAlgorithm === 'RS256' ? 'RSA' : 'EC P-256'} key in jwt.publicKey (it verifies ${keyAlgorithm})`,
    );
  }
  if (problems.length > 0) return { problems, settings: null };
  const claims: JwtClaimNames = { ...DEFAULT_CLAIMS };
  for (const [k, v] of Object.entries(input.claims ?? {})) if (v !== undefined) claims[k as keyof JwtClaimNames] = v;
  return {
    problems,
    settings: {
      ...(hasSecret ? { secret: input.secret } : { publicKey: input.publicKey }),
      algorithms,
      ...(input.issuer !== undefined ? { issuer: input.issuer } : {}),
      ...(input.audience !== undefined ? { audience: input.audience } : {}),
      claims,
    } as JwtSettings,
  };
}

/** Three base64url parts separated by dots: a compact JWS. Opaque Parley tokens have no dots. */
export const looksLikeJwt = (token: string): boolean => /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token);

/** A token that did not verify; `message` is safe to show the client. */
export class JwtRejected extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JwtRejected';
  }
}

/** Verifies host-issued JWTs and reads the user from their claims. */
export class JwtVerifier {
  private readonly key: KeyObject | Uint8Array;

  constructor(
    private readonly settings: JwtSettings,
    private readonly now: () => Date,
  ) {
    this.key = settings.secret !== undefined ? new TextEncoder().encode(settings.secret) : parsePublicKey(settings.publicKey ?? '');
  }

  /** The identity in a valid token; throws `JwtRejected` with a clear reason otherwise. */
  async verify(token: string): Promise<HostIdentity> {
    let payload: Record<string, unknown>;
    try {
      const result = await jwtVerify(token, this.key, {
        algorithms: this.settings.algorithms,
        currentDate: this.now(),
        ...(this.settings.issuer !== undefined ? { issuer: this.settings.issuer } : {}),
        ...(this.settings.audience !== undefined ? { audience: this.settings.audience } : {}),
      });
      payload = result.payload as Record<string, unknown>;
    } catch (e) {
      throw new JwtRejected(reason(e));
    }
    const c = this.settings.claims;
    const id = claim(payload, c.id);
    if (typeof id !== 'string' && typeof id !== 'number') throw new JwtRejected(`Token has no "${c.id}" claim.`);
    const text = (name: string): string | undefined => {
      const v = claim(payload, name);
      return typeof v === 'string' ? v : undefined;
    };
    return {
      id: String(id),
      username: text(c.username),
      displayName: text(c.displayName),
      email: text(c.email),
      avatarUrl: text(c.avatarUrl),
    };
  }
}

/** A claim by name, or by a dotted path into nested objects when no claim has that exact name. */
function claim(payload: Record<string, unknown>, name: string): unknown {
  if (name in payload) return payload[name];
  let at: unknown = payload;
  for (const part of name.split('.')) {
    if (typeof at !== 'object' || at === null) return undefined;
    at = (at as Record<string, unknown>)[part];
  }
  return at;
}

function reason(e: unknown): string {
  if (e instanceof joseErrors.JWTExpired) return 'Token has expired.';
  if (e instanceof joseErrors.JWTClaimValidationFailed) {
    if (e.claim === 'iss') return 'Token issuer is not accepted.';
    if (e.claim === 'aud') return 'Token audience is not accepted.';
    if (e.claim === 'nbf') return 'Token is not valid yet.';
    return `Token claim "${e.claim}" is invalid.`;
  }
  if (e instanceof joseErrors.JWSSignatureVerificationFailed) return 'Token signature is invalid.';
  if (e instanceof joseErrors.JOSEAlgNotAllowed) return 'Token algorithm is not accepted.';
  return 'Token is malformed.';
}
