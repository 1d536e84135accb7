import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Core } from '../core/index.js';
import type { Broker } from '../core/ports/broker.js';
import type { LiveEvent } from '../protocol/index.js';
import type { RealtimeHub } from '../realtime/hub.js';
import type { WsServer } from '../faces/ws/upgrade.js';

/**
 * Prometheus metrics of one app, in a registry of its own (several apps may share a process,
 * as tests do). Names are prefixed `parley_`; Node's process metrics come along.
 */
export class ParleyMetrics {
  readonly registry = new Registry();
  private readonly events: Counter<'type'>;
  private readonly latency: Histogram<'type'>;
  private readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  private readonly httpDuration: Histogram<'method' | 'route'>;
  private brokerUp = 1;
  private readonly offs: Array<() => void> = [];

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'parley_' });
    this.events = new Counter({ name: 'parley_events_total', help: 'Domain events emitted by this process, by type (rate() gives events/s).', labelNames: ['type'], registers: [this.registry] });
    this.latency = new Histogram({
      name: 'parley_delivery_latency_seconds',
      help: 'From a write being stored (its event time) to its frames being handed to local sockets, by event type.',
      labelNames: ['type'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [this.registry],
    });
    this.httpRequests = new Counter({ name: 'parley_http_requests_total', help: 'HTTP responses by method, route pattern and status.', labelNames: ['method', 'route', 'status'], registers: [this.registry] });
    this.httpDuration = new Histogram({
      name: 'parley_http_request_duration_seconds',
      help: 'HTTP response time by method and route pattern.',
      labelNames: ['method', 'route'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers: [this.registry],
    });
  }

  /** Called by the hub for each event it fans out here. */
  delivered = (event: LiveEvent): void => {
    const ms = Date.now() - Date.parse(event.at);
    if (Number.isFinite(ms)) this.latency.observe({ type: event.body.type }, Math.max(0, ms) / 1000);
  };

  /** Wires the parts of a built app in: core events, connections, the event log, the broker, HTTP. */
  attach(parts: { http: FastifyInstance; core: Core; hub: RealtimeHub; ws: WsServer; broker: Broker }): void {
    const { http, core, hub, ws, broker } = parts;
    this.offs.push(core.events.on((event) => this.events.inc({ type: event.type })));
    this.offs.push(
      broker.onInterruption((phase) => {
        this.brokerUp = phase === 'lost' ? 0 : 1;
      }),
    );
    const metrics = this;
    new Gauge({
      name: 'parley_connections',
      help: 'Open real-time connections by transport: messaging_ws (/messaging/), messages_ws (/messages/ws), messages_stream (SSE and long-poll).',
      labelNames: ['transport'],
      registers: [this.registry],
      collect() {
        const onWs = ws.connectionCounts();
        const all = hub.stats().connections;
        this.set({ transport: 'messaging_ws' }, onWs.messaging);
        this.set({ transport: 'messages_ws' }, onWs.messages);
        this.set({ transport: 'messages_stream' }, Math.max(0, all.messages - onWs.messages));
      },
    });
    new Gauge({
      name: 'parley_event_log_lag',
      help: 'Events in the event log that this process has not fanned out yet (newest logged id minus newest dispatched id).',
      registers: [this.registry],
      async collect() {
        const { newest } = await core.store.eventLogBounds();
        this.set(Math.max(0, newest - hub.stats().lastDispatchedId));
      },
    });
    new Gauge({
      name: 'parley_broker_up',
      help: '1 while the broker (Redis, or in-process) carries events; 0 while it is lost or publishing fails.',
      registers: [this.registry],
      collect() {
        this.set(hub.stats().brokerDown ? 0 : metrics.brokerUp);
      },
    });
    http.addHook('onResponse', async (request, reply) => {
      // The pattern without its parameter regexes: `/api/dm/send/:id/`, one series per route.
      const route = request.routeOptions.url?.replace(/\([^)]*\)/g, '') ?? 'unmatched';
      if (route === '/metrics') return;
      this.httpRequests.inc({ method: request.method, route, status: String(reply.statusCode) });
      this.httpDuration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
    });
  }

  close(): void {
    for (const off of this.offs.splice(0)) off();
    this.registry.clear();
  }
}
