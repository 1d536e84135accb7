import fc from 'fast-check';

/** A JSON Schema as the OpenAPI document and TypeBox write them (the keywords used here). */
export type Schema = Record<string, any>;

/** Values a fuzzer keeps trying because they broke servers before. */
export const nastyValue: fc.Arbitrary<unknown> = fc.constantFrom<unknown>(
  '',
  ' ',
  '\u0000',
  '\u202Egnp.exe',
  'x'.repeat(70_000),
  '../../etc/passwd',
  '%00',
  '<script>alert(1)</script>',
  -1,
  0,
  2 ** 53,
  -(2 ** 63),
  1e308,
  Number.MIN_VALUE,
  '9'.repeat(40),
  true,
  null,
  [],
  {},
  { __proto__: { polluted: true } },
  JSON.parse('{"__proto__":{"polluted":true},"constructor":{"prototype":{"x":1}}}'),
  Array.from({ length: 600 }, (_, i) => i + 1),
);

/** Real ids of the fixture, so generated requests reach existing objects, not only 404s. */
export type IdPool = number[];

const idLike = (ids: IdPool): fc.Arbitrary<number> => (ids.length ? fc.oneof(fc.constantFrom(...ids), fc.integer({ min: -5, max: 2 ** 31 })) : fc.integer());

/**
 * Values for `schema`: mostly valid ones (so requests get past validation into the core),
 * with `nastyValue`s and arbitrary JSON mixed in at every level.
 */
export function fromSchema(schema: Schema | undefined, ids: IdPool, resolve: (ref: string) => Schema | undefined = () => undefined, depth = 0): fc.Arbitrary<unknown> {
  const any = fc.oneof(fc.jsonValue({ maxDepth: 2 }), nastyValue);
  if (!schema || depth > 5) return any;
  if (typeof schema.$ref === 'string') return fromSchema(resolve(schema.$ref), ids, resolve, depth + 1);
  const valid = validFor(schema, ids, resolve, depth);
  return fc.oneof({ weight: 6, arbitrary: valid }, { weight: 1, arbitrary: any });
}

function validFor(schema: Schema, ids: IdPool, resolve: (ref: string) => Schema | undefined, depth: number): fc.Arbitrary<unknown> {
  const next = (s: Schema | undefined) => fromSchema(s, ids, resolve, depth + 1);
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (Array.isArray(schema.enum) && schema.enum.length) return fc.constantFrom(...schema.enum);
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(alternatives) && alternatives.length) return fc.oneof(...alternatives.map((s: Schema) => next(s)));
  if (Array.isArray(schema.allOf) && schema.allOf.length) return next(Object.assign({}, ...schema.allOf));
  const type = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
  if (type.length > 1) return fc.oneof(...type.map((t: string) => next({ ...schema, type: t })));
  switch (type[0]) {
    case 'string': {
      if (schema.format === 'date-time') return fc.date({ min: new Date(0), max: new Date(4e12), noInvalidDate: true }).map((d) => d.toISOString());
      if (typeof schema.pattern === 'string') {
        try {
          return fc.stringMatching(new RegExp(schema.pattern)).filter((s) => s.length <= (schema.maxLength ?? 500));
        } catch {
          /* a pattern fast-check cannot read: plain strings */
        }
      }
      const min = schema.minLength ?? 0;
      return fc.oneof(fc.string({ minLength: min, maxLength: Math.max(min, Math.min(schema.maxLength ?? 40, 40)) }), idLike(ids).map(String));
    }
    case 'integer':
      return fc.oneof(idLike(ids), fc.integer({ min: schema.minimum ?? -1000, max: schema.maximum ?? 1_000_000 }));
    case 'number':
      return fc.double({ noNaN: true, noDefaultInfinity: true, min: schema.minimum ?? -1e9, max: schema.maximum ?? 1e9 });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array':
      return fc.array(next(schema.items), { maxLength: Math.min(schema.maxItems ?? 4, 4), minLength: Math.min(schema.minItems ?? 0, 4) });
    case 'object': {
      const props: Record<string, Schema> = schema.properties ?? {};
      const required: string[] = schema.required ?? [];
      const model: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [k, v] of Object.entries(props)) model[k] = next(v);
      const record = fc.record(model, { requiredKeys: required.filter((k) => k in model) });
      if (Object.keys(props).length === 0) return fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 });
      return record;
    }
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

/** The fixed seed every run starts with, and one random seed printed for replay (`FUZZ_SEED=`). */
export function seeds(): number[] {
  const fixed = 20261204;
  const random = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : Math.floor(Math.random() * 2 ** 31);
  return [fixed, random];
}
