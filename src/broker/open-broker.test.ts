import { describe, expect, it } from 'vitest';
import { openBroker } from './index.js';

const log = { error: () => {} };

describe('openBroker: REDIS_URL presence_ttl', () => {
  it.each(['', 'soon', '0', '-1', '100000'])('refuses presence_ttl=%j at startup, saying why', (value) => {
    expect(() => openBroker(`redis://127.0.0.1:1?presence_ttl=${value}`, log)).toThrow(/presence_ttl must be a number of seconds/);
  });
});
