import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigFileSchema } from './schema.js';

/** docs/configuration.md is where an operator looks a setting up: every one has its row. */
describe('docs/configuration.md', () => {
  it('has a row for every setting of the configuration schema', () => {
    const doc = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
    const missing = Object.keys(ConfigFileSchema.properties).filter((key) => !doc.includes(`| \`${key}\` |`));
    expect(missing).toEqual([]);
  });
});
