import { afterEach, describe, expect, it } from 'vitest';
import type { Broker } from '../../src/core/ports/broker.js';

/** How a contract run opens a broker. */
export interface OpenBrokerOptions {
  /** The presence TTL (`presenceTtlMs` of the implementation); short in tests. */
  presenceTtlMs?: number;
  /** Share topics and presence with this broker, as two processes on one Redis do. */
  shareWith?: Broker;
}

/** The broker contract: every Broker implementation runs this suite unchanged. */
export function runBrokerContract(name: string, open: (o?: OpenBrokerOptions) => Promise<Broker>): void {
  describe(`broker contract: ${name}`, () => {
    const opened: Broker[] = [];
    const make = async (o?: OpenBrokerOptions) => {
      const b = await open(o);
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

    it('delivers a burst published without waiting (a committed batch) once each, in publish order, to another process too', async () => {
      const a = await make();
      const b = await make({ shareWith: a });
      const onA: string[] = [];
      const onB: string[] = [];
      await a.subscribe('batch', (p) => onA.push(p));
      await b.subscribe('batch', (p) => onB.push(p));
      const sent = Array.from({ length: 200 }, (_, i) => JSON.stringify({ id: i + 1 }));
      await Promise.all(sent.map((p) => a.publish('batch', p)));
      await until(() => onA.length >= 200 && onB.length >= 200);
      await new Promise((r) => setTimeout(r, 50)); // a duplicate would arrive by now
      expect(onA).toEqual(sent);
      expect(onB).toEqual(sent);
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

    it('expires the presence of a process that stopped refreshing it (killed), not of one that refreshes', async () => {
      const ttl = 300;
      const alive = await make({ presenceTtlMs: ttl });
      const killed = await open({ presenceTtlMs: ttl, shareWith: alive });
      const base = 2_000_000 + Math.floor(Math.random() * 1_000_000) * 3;
      const [onlyKilled, both, onlyAlive] = [base, base + 1, base + 2];
      try {
        const since = Date.now();
        await killed.setPresence(onlyKilled, 'node-killed', true);
        await killed.setPresence(both, 'node-killed', true);
        expect(await alive.setPresence(both, 'node-alive', true)).toBe(2);
        await alive.setPresence(onlyAlive, 'node-alive', true);
        expect(await alive.onlineUsers([onlyKilled, both, onlyAlive])).toEqual(new Set([onlyKilled, both, onlyAlive]));
        // Closed without saying goodbye for its users: what SIGKILL leaves behind.
        await killed.close();
        const end = Date.now() + ttl * 20;
        let online = await alive.onlineUsers([onlyKilled, both, onlyAlive]);
        while (online.has(onlyKilled) && Date.now() < end) {
          await new Promise((r) => setTimeout(r, 20));
          online = await alive.onlineUsers([onlyKilled, both, onlyAlive]);
        }
        expect(online).toEqual(new Set([both, onlyAlive]));
        // Entries of a refreshing process outlive the TTL many times over.
        while (Date.now() - since < ttl * 3) await new Promise((r) => setTimeout(r, 20));
        expect(await alive.onlineUsers([both, onlyAlive])).toEqual(new Set([both, onlyAlive]));
        // The dead node is not counted either: this was the last holder.
        expect(await alive.setPresence(both, 'node-alive', false)).toBe(0);
        expect(await alive.onlineUsers([both])).toEqual(new Set());
      } finally {
        await killed.close();
      }
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
