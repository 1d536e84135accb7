import { ParleyError, type FieldErrors } from './errors.js';
import type { Metadata } from './types.js';

/** Which object a `metadata` value belongs to. */
export type MetadataKind = 'message' | 'conversation';

/**
 * Checks a `metadata` value against the host's schema (`metadataSchema`): field errors keyed
 * by path under `metadata` (e.g. `{ "metadata.tag": ["must be string"] }`), or null when valid.
 * The core has no JSON Schema engine of its own; the composition root passes one in.
 */
export type MetadataValidator = (kind: MetadataKind, value: Metadata) => FieldErrors | null;

/** The largest `metadata` object, as serialized JSON (bytes, UTF-8). */
export const METADATA_MAX_BYTES = 16 * 1024;

/**
 * Validates a `metadata` input: `undefined` (not given) passes through; `null` clears it; an
 * object must be a plain JSON object within `METADATA_MAX_BYTES` that the validator accepts.
 * Anything else is a `validation` error on `metadata`.
 */
export function checkMetadata(
  validator: MetadataValidator | undefined,
  kind: MetadataKind,
  value: unknown,
): Metadata | null | undefined {
  if (value === undefined || value === null) return value;
  if (typeof value !== 'object' || Array.isArray(value)) throw invalidMetadata({ metadata: ['Must be a JSON object.'] });
  // Measured without recursion before anything walks it: JSON.stringify of a value nested
  // thousands deep runs out of stack.
  if (!withinLimits(value)) {
    throw invalidMetadata({ metadata: [`Ensure this object is nested at most ${METADATA_MAX_DEPTH} levels deep and has no more than ${METADATA_MAX_BYTES} bytes as JSON.`] });
  }
  const text = JSON.stringify(value);
  if (Buffer.byteLength(text, 'utf8') > METADATA_MAX_BYTES) {
    throw invalidMetadata({ metadata: [`Ensure this object has no more than ${METADATA_MAX_BYTES} bytes as JSON.`] });
  }
  // A JSON round trip: what is stored is exactly what is validated (no Dates, no undefined).
  const metadata = JSON.parse(text) as Metadata;
  const errors = validator?.(kind, metadata) ?? null;
  if (errors && Object.keys(errors).length > 0) throw invalidMetadata(errors);
  return metadata;
}

/** How deep `metadata` may nest (objects and arrays). */
export const METADATA_MAX_DEPTH = 32;

/** Depth within `METADATA_MAX_DEPTH` and at most one value per byte of the size limit, iteratively. */
function withinLimits(root: object): boolean {
  const stack: { value: unknown; depth: number }[] = [{ value: root, depth: 1 }];
  let count = 0;
  while (stack.length > 0) {
    const { value, depth } = stack.pop() as { value: unknown; depth: number };
    if (++count > METADATA_MAX_BYTES) return false;
    if (typeof value !== 'object' || value === null) continue;
    if (depth > METADATA_MAX_DEPTH) return false;
    for (const child of Object.values(value)) stack.push({ value: child, depth: depth + 1 });
  }
  return true;
}

function invalidMetadata(details: FieldErrors): ParleyError {
  const first = Object.entries(details)[0];
  const message = first ? `${first[0]}: ${first[1].join(' ')}` : 'Invalid metadata.';
  return new ParleyError('validation', message, details);
}
