import { Type as T } from '@sinclair/typebox';
import { Ajv, type ErrorObject } from 'ajv';
import addFormats from 'ajv-formats';
import { ConfigError } from '../../config/index.js';
import type { FieldErrors, Metadata, MetadataKind, MetadataValidator } from '../../core/index.js';

/** A JSON Schema object (draft 7 / 2019-09 keywords that ajv understands). */
export type JsonSchema = Record<string, unknown>;

/**
 * The host's schemas for `metadata` (our answer to the seed's swappable `MODELS`): extra data
 * on messages and conversations, a JSON object validated against `message` / `conversation`
 * on every write, on every face. Without a schema any JSON object is accepted. Either way it
 * is at most 16 KB as JSON.
 */
export interface MetadataSchemas {
  message?: JsonSchema;
  conversation?: JsonSchema;
}

/** `metadata` in request bodies: a JSON object (or null to clear it); the core checks the rest. */
export const MetadataIn = T.Union(
  [T.Unsafe<Metadata>({ type: 'object', additionalProperties: true }), T.Null()],
  { description: 'Host-defined data (a JSON object, at most 16 KB), validated against the server\u2019s `metadataSchema`; null clears it.' },
);

/** `metadata` in responses: always an object, `{}` when none was set. */
export const MetadataOut = T.Unsafe<Metadata>({
  type: 'object',
  additionalProperties: true,
  description: 'Host-defined data; `{}` when none.',
});

/** Compiles the host's schemas once; a schema ajv cannot compile stops the start (`ConfigError`). */
export function compileMetadataSchemas(schemas: MetadataSchemas | undefined): MetadataValidator | undefined {
  if (!schemas || (!schemas.message && !schemas.conversation)) return undefined;
  const ajv = new Ajv({ allErrors: true, strict: false, useDefaults: false, coerceTypes: false });
  addFormats.default(ajv);
  const compiled: Partial<Record<MetadataKind, ReturnType<Ajv['compile']>>> = {};
  for (const kind of ['message', 'conversation'] as const) {
    const schema = schemas[kind];
    if (!schema) continue;
    try {
      compiled[kind] = ajv.compile(schema);
    } catch (e) {
      throw new ConfigError([`metadataSchema.${kind}: not a valid JSON Schema (${e instanceof Error ? e.message : String(e)})`]);
    }
  }
  return (kind, value) => {
    const validate = compiled[kind];
    if (!validate || validate(value)) return null;
    return fieldErrors(validate.errors ?? []);
  };
}

/** ajv errors as DRF-style field errors under `metadata` (`metadata.tag`, `metadata`). */
function fieldErrors(errors: readonly ErrorObject[]): FieldErrors {
  const out: FieldErrors = {};
  for (const e of errors) {
    const missing = (e.params as { missingProperty?: unknown }).missingProperty;
    const extra = (e.params as { additionalProperty?: unknown }).additionalProperty;
    const path = e.instancePath.replace(/^\//, '').replaceAll('/', '.');
    const leaf = typeof missing === 'string' ? missing : typeof extra === 'string' ? extra : '';
    const field = ['metadata', path, leaf].filter(Boolean).join('.');
    const message = typeof missing === 'string' ? 'This field is required.' : typeof extra === 'string' ? 'Unknown field.' : (e.message ?? 'Invalid value.');
    (out[field] ??= []).push(message);
  }
  return out;
}

/** What a face shows for a message's or conversation's metadata. */
export const metadataOut = (m: { metadata?: Metadata | null | undefined }): Metadata => m.metadata ?? {};
