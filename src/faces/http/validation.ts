import formbody from '@fastify/formbody';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifyInstance, FastifySchemaCompiler } from 'fastify';

/**
 * Two validators: query strings, params and headers arrive as text, so their numbers and
 * booleans are coerced; JSON bodies are validated as sent, so `{"content": 5}` is a 400
 * rather than silently becoming "5". Form bodies (urlencoded or multipart) are text too, so
 * they are coerced like a query string, as DRF's form parsers and serializers do.
 */
function makeAjv(coerce: boolean): Ajv {
  // `verbose` keeps the refused value on each error, for DRF's `got type "str"` texts.
  const ajv = new Ajv({ coerceTypes: coerce ? 'array' : false, useDefaults: true, removeAdditional: false, allErrors: true, strict: false, verbose: true });
  addFormats.default(ajv);
  return ajv;
}

export function validatorCompiler(): FastifySchemaCompiler<unknown> {
  const strict = makeAjv(false);
  const coercing = makeAjv(true);
  return ({ schema, httpPart }) => {
    if (httpPart !== 'body') return drfErrors(coercing.compile(schema as object));
    const asSent = drfErrors(strict.compile(schema as object));
    const asText = drfErrors(coercing.compile(schema as object));
    const validate = (data: unknown) => {
      const chosen = isFormBody(data) ? asText : asSent;
      const ok = chosen(data);
      validate.errors = chosen.errors;
      return ok;
    };
    validate.errors = null as ErrorObject[] | null | undefined;
    return validate;
  };
}

// ── form bodies ──────────────────────────────────────────────────────────────

const formBodies = new WeakSet<object>();

/** Marks a body parsed from a form (its values are text, validated with coercion). */
export function markFormBody(body: unknown): void {
  if (typeof body === 'object' && body !== null) formBodies.add(body);
}

const isFormBody = (data: unknown): boolean => typeof data === 'object' && data !== null && formBodies.has(data);

/**
 * `application/x-www-form-urlencoded` bodies on every HTTP face, as Django's views take them:
 * a repeated key becomes a list. Installed once on the root app.
 */
export async function installFormBodies(app: FastifyInstance): Promise<void> {
  await app.register(formbody, { parser: parseForm });
}

function parseForm(text: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [key, value] of new URLSearchParams(text)) {
    const had = out[key];
    out[key] = had === undefined ? value : Array.isArray(had) ? [...had, value] : [had, value];
  }
  markFormBody(out);
  return out;
}

// ── DRF's field error texts ──────────────────────────────────────────────────

/**
 * Rewrites a validator's errors into the texts DRF serializers use (`"A valid integer is
 * required."`, not `"must be integer"`), one per field: a value refused by every branch of a
 * union (`integer | null`) reports its first branch only.
 */
function drfErrors(v: ValidateFunction): ValidateFunction {
  const wrapped = ((data: unknown) => {
    const ok = v(data);
    wrapped.errors = ok ? null : drfTexts(v.errors ?? []);
    return ok;
  }) as ValidateFunction;
  wrapped.errors = null;
  return wrapped;
}

function drfTexts(errors: readonly ErrorObject[]): ErrorObject[] {
  const seen = new Set<string>();
  const out: ErrorObject[] = [];
  for (const e of errors) {
    if (e.keyword === 'anyOf' || e.keyword === 'oneOf' || e.keyword === 'if') continue;
    // `required` and `additionalProperties` name their field in params: key them by it.
    const field = `${e.instancePath}|${String(e.params.missingProperty ?? e.params.additionalProperty ?? '')}`;
    if (seen.has(field)) continue;
    seen.add(field);
    out.push({ ...e, message: drfText(e) });
  }
  return out;
}

/** Python's name for a JSON value's type, as DRF puts it in its messages. */
function pyType(value: unknown): string {
  if (value === null) return 'NoneType';
  if (Array.isArray(value)) return 'list';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'float';
  return ({ string: 'str', boolean: 'bool', object: 'dict' } as Record<string, string>)[typeof value] ?? 'str';
}

const FORMATS: Record<string, string> = {
  'date-time': 'Datetime has wrong format. Use one of these formats instead: YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].',
  date: 'Date has wrong format. Use one of these formats instead: YYYY-MM-DD.',
  uri: 'Enter a valid URL.',
  email: 'Enter a valid email address.',
  uuid: 'Must be a valid UUID.',
};

function drfText(e: ErrorObject): string {
  const p = e.params as Record<string, unknown>;
  const limit = String(p.limit ?? '');
  switch (e.keyword) {
    case 'required':
      return 'This field is required.';
    case 'additionalProperties':
      return e.message ?? 'Unknown field.';
    case 'type': {
      const want = Array.isArray(p.type) ? String(p.type[0]) : String(p.type);
      if (e.data === null) return 'This field may not be null.';
      switch (want) {
        case 'string':
          return 'Not a valid string.';
        case 'integer':
          return 'A valid integer is required.';
        case 'number':
          return 'A valid number is required.';
        case 'boolean':
          return 'Must be a valid boolean.';
        case 'array':
          return `Expected a list of items but got type "${pyType(e.data)}".`;
        case 'object':
          return `Expected a dictionary of items but got type "${pyType(e.data)}".`;
        case 'null':
          return 'This field may not be null.';
        default:
          return 'Invalid value.';
      }
    }
    case 'maxLength':
      return `Ensure this field has no more than ${limit} characters.`;
    case 'minLength':
      return p.limit === 1 ? 'This field may not be blank.' : `Ensure this field has at least ${limit} characters.`;
    case 'maximum':
      return `Ensure this value is less than or equal to ${limit}.`;
    case 'minimum':
      return `Ensure this value is greater than or equal to ${limit}.`;
    case 'exclusiveMaximum':
      return `Ensure this value is less than ${limit}.`;
    case 'exclusiveMinimum':
      return `Ensure this value is greater than ${limit}.`;
    case 'maxItems':
      return `Ensure this field has no more than ${limit} elements.`;
    case 'minItems':
      return p.limit === 1 ? 'This list may not be empty.' : `Ensure this field has at least ${limit} elements.`;
    case 'enum':
    case 'const':
      return `"${typeof e.data === 'string' ? e.data : JSON.stringify(e.data)}" is not a valid choice.`;
    case 'format':
      return FORMATS[String(p.format)] ?? 'Enter a valid value.';
    case 'pattern':
      return 'This value does not match the required pattern.';
    default:
      return 'Invalid value.';
  }
}
