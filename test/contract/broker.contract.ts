import { afterEach, describe, expect, it } from 'vitest';
import type { Broker } from '../../src/core/ports/broker.js';

/** The broker contract: every Broker implementation runs this suite unchanged. */
export function runBrokerContract(name: string, open: () => Promise<Broker>): void {
  describe(`broker contract: ${name}`, () => {
    const opened: Broker[] = [];
    const make = async () => {
      const b = await open();
      opened.push(b);
      return b;
    };
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((b) => b.close()));
    });

    /** Waits until `cond` holds; brokers that cross a network deliver asynchronously. */
    const until = async (cond: () => boolean, ms = 2000) => {
      const end = Date.now() + ms;
      while (!cond()) {
        if (Date.now() > end) throw new Error('timed out');
        await new Promise((r) => setTimeout(r, 5));
      }
    };

    it('delivers payloads byte-for-byte, in publish order, to every subscriber of the topic', async () => {
      const b = await make();
      const a: string[] = [];
      const c: string[] = [];
      await b.subscribe('t', (p) => a.push(p));
      await b.subscribe('t', (p) => c.push(p));
      const sent = Array.from({ length: 50 }, (_, i) => JSON.stringify({ i, s: 'é ✓ "q"' }));
      for (const p of sent) await b.publish('t', p);
      await until(() => a.length === 50 && c.length === 50);
      expect(a).toEqual(sent);
      expect(c).toEqual(sent);
    });

    it('keeps topics apart', async () => {
      const b = await make();
      const got: string[] = [];
      await b.subscribe('one', (p) => got.push(`one:${p}`));
      await b.publish('two', 'x');
      await b.publish('one', 'y');
      await until(() => got.length === 1);
      expect(got).toEqual(['one:y']);
    });

    it('stops delivering after unsubscribe, to that subscription only', async () => {
      const b = await make();
      const a: string[] = [];
      const c: string[] = [];
      const stopA = await b.subscribe('t', (p) => a.push(p));
      await b.subscribe('t', (p) => c.push(p));
      await b.publish('t', '1');
      await until(() => a.length === 1 && c.length === 1);
      await stopA();
      await b.publish('t', '2');
      await until(() => c.length === 2);
      expect(a).toEqual(['1']);
    });

    it('shares presence: online while any process holds the user, offline when none does', async () => {
      const b = await make();
      const user = 1_000_000 + Math.floor(Math.random() * 1_000_000);
      expect(await b.onlineUsers([user])).toEqual(new Set());
      expect(await b.setPresence(user, 'node-a', true)).toBe(1);
      expect(await b.setPresence(user, 'node-a', true)).toBe(1);
      expect(await b.setPresence(user, 'node-b', true)).toBe(2);
      expect(await b.onlineUsers([user, user + 1])).toEqual(new Set([user]));
      expect(await b.setPresence(user, 'node-a', false)).toBe(1);
      expect(await b.setPresence(user, 'node-b', false)).toBe(0);
      expect(await b.onlineUsers([user])).toEqual(new Set());
    });

    it('isolates a throwing handler', async () => {
      const b = await make();
      const got: string[] = [];
      await b.subscribe('t', () => {
        throw new Error('boom');
      });
      await b.subscribe('t', (p) => got.push(p));
      await b.publish('t', '1');
      await b.publish('t', '2');
      await until(() => got.length === 2);
      expect(got).toEqual(['1', '2']);
    });
  });
}
