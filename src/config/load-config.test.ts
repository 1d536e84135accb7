import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './load-config.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'parley-config-'));

describe('loadConfig', () => {
  it('fills the documented defaults', () => {
    const cwd = tmp();
    const c = loadConfig({ cwd, env: {} });
    expect(c).toMatchObject({
      port: 3000,
      host: '127.0.0.1',
      dataDir: join(cwd, 'data'),
      databaseUrl: `sqlite:${join(cwd, 'data', 'parley.sqlite3')}`,
      registrationEnabled: true,
      inactivityThreshold: 60,
      websocketPath: 'messaging/',
      transport: 'websocket',
      messagesPerPage: 50,
      chatsPerPage: 10,
    });
    expect(c.core).toEqual({});
  });

  it('keeps a generated secret in the data directory across loads', () => {
    const cwd = tmp();
    const a = loadConfig({ cwd, env: {} });
    const b = loadConfig({ cwd, env: {} });
    expect(a.secret).toHaveLength(43);
    expect(b.secret).toBe(a.secret);
    expect(readFileSync(join(cwd, 'data', 'secret'), 'utf8').trim()).toBe(a.secret);
  });

  it('layers file < environment < code', () => {
    const cwd = tmp();
    writeFileSync(join(cwd, 'parley.config.json'), JSON.stringify({ port: 4000, host: '0.0.0.0', messageSoftDelete: true, allowedRecipients: [1, 2] }));
    const c = loadConfig({ cwd, env: { PORT: '5000', PARLEY_SECRET: 'x'.repeat(20) }, overrides: { host: '::1' } });
    expect(c.port).toBe(5000);
    expect(c.host).toBe('::1');
    expect(c.secret).toBe('x'.repeat(20));
    expect(c.core).toMatchObject({ messageSoftDelete: true, allowedRecipients: [1, 2] });
  });

  it('reports every bad value with its source', () => {
    const cwd = tmp();
    writeFileSync(join(cwd, 'parley.config.json'), JSON.stringify({ chatsPerPage: 0, allowedRecipients: ['a'], typo: true }));
    try {
      loadConfig({ cwd, env: { PORT: '99999', PARLEY_SECRET: 'short' } });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      const msg = (e as ConfigError).message;
      expect(msg).toMatch(/port \(from PORT\)/);
      expect(msg).toMatch(/secret \(from PARLEY_SECRET\)/);
      expect(msg).toMatch(/chatsPerPage/);
      expect(msg).toMatch(/allowedRecipients/);
      expect(msg).toMatch(/typo/);
    }
  });

  it('says which file is not valid JSON', () => {
    const cwd = tmp();
    writeFileSync(join(cwd, 'custom.json'), '{ nope');
    expect(() => loadConfig({ cwd, env: { PARLEY_CONFIG: 'custom.json' } })).toThrow(/custom\.json/);
    expect(() => loadConfig({ cwd, env: {}, file: 'missing.json' })).toThrow(/missing\.json/);
  });

  it('passes hooks from code to the core settings', () => {
    const displayName = () => 'X';
    const c = loadConfig({ cwd: tmp(), env: {}, hooks: { displayName } });
    expect(c.core.displayName).toBe(displayName);
  });
});
