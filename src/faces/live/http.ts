import { Type as T } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { ParleyError } from '../../core/errors.js';
import type { ConnectionCap } from '../../realtime/connection-cap.js';
import { requireUser } from '../http/authenticate.js';
import { installErrorHandler, restErrors } from '../http/errors.js';
import { type FaceDeps, typed } from '../http/face-deps.js';
import { commonErrors } from '../http/schemas.js';
import { PollLeases, poll } from './long-poll.js';
import { presenceFrames } from './replay.js';
import { SseStream } from './sse.js';

const SSE_HEARTBEAT_MS = 15_000;
const SSE_MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
/** How long a long-polling user counts as connected after a poll answers. */
const POLL_GRACE_MS = 10_000;

const EventsQuery = T.Object({
  cursor: T.Optional(
    T.String({ minLength: 1, maxLength: 200, description: 'The last `cursor` you received. Without it you get the current position, to poll from.' }),
  ),
  timeout: T.Optional(
    T.Number({ minimum: 0, maximum: 60, default: 25, description: 'Seconds to wait for an event when there is none yet (long-poll only).' }),
  ),
  token: T.Optional(
    T.String({ description: 'A Parley token or a JWT, for clients that cannot send headers (an `EventSource`); the Authorization header and the cookie are better.' }),
  ),
});

const LongPollResponse = T.Object({
  events: T.Array(T.Object({ type: T.String() }, { additionalProperties: true }), {
    description: 'The same frames as `/messages/ws/` (`new_message`, `message_updated`, …), oldest first.',
  }),
  cursor: T.String({ description: 'Pass this as `cursor` next time.' }),
  resync: T.Optional(
    T.Object(
      { reason: T.Union([T.Literal('expired'), T.Literal('invalid')]) },
      { description: 'The cursor could not be resumed from: refetch over REST, then continue from `cursor`.' },
    ),
  ),
});

const DESCRIPTION = `Live events of the Django Messaging API for clients that cannot hold a WebSocket
(\`/messages/ws/\`, which serves the same frames).

**Long-poll** (default): without \`cursor\`, answers at once with the current cursor and a
\`presence\` frame (\`online: true\`) for each person sharing a chat with you who is online
now (up to 1,000 contacts looked up; none when nobody is). A poll with \`cursor\` that starts
a session again (more than 10 s after the last one) gets that snapshot too, after its events.
With \`cursor\`, answers at once with what happened since (at most one page; ask again with
the returned cursor), or waits up to \`timeout\` seconds for the next event and answers with
it, or with no events and the same cursor. A cursor that cannot be resumed from, because it
is too old (\`expired\`) or not one this server gave out (\`invalid\`, garbage included),
answers 200 with \`resync\` and the current cursor: refetch what you show over REST, then poll
from there (\`/messages/ws/\` sends a \`resync\` frame in the same cases, so every client
recovers the same way). Only an empty or oversized \`cursor\` is a 400.

**Server-Sent Events** (\`Accept: text/event-stream\`): a stream of \`id: <cursor>\` /
\`event: <type>\` / \`data: <frame JSON>\` (no \`id\` for typing and presence). Resumes from the
\`Last-Event-ID\` header (as \`EventSource\` sends it) or \`cursor\`; replays what was missed,
sends \`event: resync\` (its id: the current cursor) if it cannot, then \`event: ready\`, an
\`event: presence\` (no id) for each contact online now, and the live events. A comment
(\`: ping\`) is sent every 15 s. A client that falls more than 4 MiB behind is disconnected
and resumes with its last id.

A user holds at most \`maxConnectionsPerUser\` (100) live connections on a process (SSE streams,
waiting polls and WebSockets together): one more stream or poll is answered 429 with a \`detail\`.`;

/** `GET /messages/api/events/`: long-poll, or SSE with `Accept: text/event-stream`. */
export const liveHttp =
  ({ hub }: FaceDeps, connections: ConnectionCap): FastifyPluginAsync =>
  async (scope) => {
    const app = typed(scope);
    installErrorHandler(scope, restErrors);

    const streams = new Set<SseStream>();
    const closers = new Set<() => void>();
    const leases = new PollLeases(hub, POLL_GRACE_MS);
    // Open streams and waiting polls would keep the server from closing: end them first.
    scope.addHook('preClose', async () => {
      for (const close of [...closers]) close();
      for (const s of [...streams]) s.end();
      leases.closeAll();
    });

    app.get(
      '/events/',
      {
        schema: {
          tags: ['live'],
          summary: 'Live events by long-poll or Server-Sent Events',
          description: DESCRIPTION,
          querystring: EventsQuery,
          headers: T.Object({
            'last-event-id': T.Optional(T.String({ maxLength: 200, description: 'SSE: resume after this event id (a cursor).' })),
          }),
          response: {
            200: {
              description: 'Events (long-poll), or an event stream (SSE).',
              content: {
                'application/json': { schema: LongPollResponse },
                'text/event-stream': { schema: T.String({ description: 'Server-Sent Events' }) },
              },
            },
            ...commonErrors,
          },
        },
      },
      async (request, reply) => {
        const user = requireUser(request);
        const lastEventId = request.headers['last-event-id'];
        const sse = (request.headers.accept ?? '').includes('text/event-stream');
        const cursor = (sse && typeof lastEventId === 'string' && lastEventId !== '' ? lastEventId : undefined) ?? request.query.cursor ?? null;
        // A stream holds its slot until it closes; a poll, until it is answered.
        const release = connections.acquire(user.id);
        if (!release) throw new ParleyError('rate_limited', `Too many connections: at most ${connections.max} live connections per user. Close one and try again.`);
        if (sse) return streamEvents(reply, user.id, cursor, release);

        if (cursor === null) {
          release(); // answered at once
          // The first poll of a session: the position now, and who among the user's contacts
          // is online now (presence is not in the log, so no cursor could bring it back).
          const head = await hub.headCursor();
          const snapshot = await presenceFrames(hub, user.id, request.log);
          leases.snapshotGiven(user.id);
          return sendPoll(reply, snapshot, head);
        }
        let stop: (why: 'closed' | 'timeout') => void = () => {};
        const stopped = new Promise<'closed' | 'timeout'>((resolve) => (stop = resolve));
        const onClientGone = () => stop('closed');
        // On shutdown a waiting poll answers as if it timed out: the client polls again.
        const close = () => stop('timeout');
        closers.add(close);
        reply.raw.on('close', onClientGone);
        try {
          const result = await poll({
            hub,
            userId: user.id,
            cursor,
            timeoutMs: (request.query.timeout ?? 25) * 1000,
            stopped,
            leases,
            log: request.log,
          });
          switch (result.kind) {
            case 'closed':
              return sendPoll(reply, [], cursor); // nobody is listening any more
            case 'resync':
              return reply.type('application/json; charset=utf-8').send({ events: [], cursor: result.cursor, resync: { reason: result.reason } });
            case 'events':
              return sendPoll(reply, result.frames, result.cursor);
          }
        } finally {
          closers.delete(close);
          reply.raw.off('close', onClientGone);
          release();
        }
      },
    );

    /** The frames are JSON already: the body is assembled around them, not re-serialized. */
    function sendPoll(reply: FastifyReply, frames: readonly string[], cursor: string): FastifyReply {
      return reply.type('application/json; charset=utf-8').send(`{"events":[${frames.join(',')}],"cursor":${JSON.stringify(cursor)}}`);
    }

    async function streamEvents(reply: FastifyReply, userId: number, cursor: string | null, release: () => void): Promise<FastifyReply> {
      const res = reply.raw;
      const stream = new SseStream(userId, res, { maxBufferedBytes: SSE_MAX_BUFFERED_BYTES, heartbeatMs: SSE_HEARTBEAT_MS });
      // Registered before the replay reads the log: events meanwhile are held, not missed.
      const unregister = hub.register(stream);
      streams.add(stream);
      res.on('close', () => {
        stream.stop();
        streams.delete(stream);
        unregister();
        release();
      });
      reply.hijack();
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      res.flushHeaders();
      try {
        await stream.start(hub, cursor, reply.log);
      } catch (err) {
        reply.log.error({ err }, 'sse: replay failed');
        stream.end();
      }
      return reply;
    }
  };
