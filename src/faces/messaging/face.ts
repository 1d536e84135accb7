import { randomUUID } from 'node:crypto';
import type { RawData } from 'ws';
import type { User, UserId } from '../../core/index.js';
import { encodeCursor } from '../../realtime/cursor.js';
import { replayAll } from '../live/replay.js';
import type { FaceDeps } from '../http/face-deps.js';
import { CLOSE, type LiveSocket } from '../ws/live-socket.js';
import type { WsRoute } from '../ws/upgrade.js';
import { encodeMessagingEvent } from './encode.js';
import { SESSION_EXPIRED, UNAUTHENTICATED, badFrame, describeError } from './errors.js';
import type { MessagingClientFrame, WireNotification } from '../../protocol/messaging-frames.js';
import { type MessagingHandler, type MessagingHandlers, type OutgoingFrame, defaultHandlers } from './handlers.js';
import { Presenter } from './present.js';
import { serializersOf } from '../serializers.js';

export type { MessagingContext, MessagingHandler, MessagingHandlers, OutgoingFrame } from './handlers.js';
export type * from '../../protocol/messaging-frames.js';

/**
 * Frames larger than this are refused with a 4003 and the socket stays open; the server's
 * hard limit (1 MiB, `maxPayloadBytes` in app.ts) closes the socket with 1009.
 */
export const SOFT_FRAME_LIMIT = 64 * 1024;
/** Events of one connection are handled in order; a client this far ahead is cut off (1008). */
const MAX_QUEUED_FRAMES = 256;

/** One connection: the seed's `Session`, kept alive by `session.heartbeat`. */
class Session {
  /** When the last heartbeat (or the connection) happened, by the core's clock. */
  lastHeartbeat: number;
  /** Events of this connection run one after another, after the connection setup. */
  queue: Promise<void> = Promise.resolve();
  queued = 0;
  /** Unique per connection; the `sessionId` of `session.started` / `session.ended`. */
  readonly id = randomUUID();
  /** Set when the sweep closes the session for lack of heartbeats. */
  expired = false;

  constructor(
    readonly socket: LiveSocket,
    readonly user: User,
    now: number,
  ) {
    this.lastHeartbeat = now;
  }
}

/**
 * The realtime_chat_messaging protocol (seeds 000, 001) on `/<websocketPath>`.
 *
 * On connect: `chat.notifications` (when `enableNotification`), then the replay of missed
 * events when `?cursor=` is given (or `resync` if it cannot be resumed from), then
 * `session.ready {user_id, cursor}`; live events follow, never before `session.ready`.
 * Client events are dispatched through the event map (`handlers` merged over the defaults).
 * A session that sends no `session.heartbeat` for `inactivityThreshold` seconds is closed.
 */
export function messagingFace(deps: FaceDeps, handlers: MessagingHandlers = {}): WsRoute {
  const { core, hub, config, log } = deps;
  const presenter = new Presenter(core, hub);
  const serializers = serializersOf(core).messaging ?? {};
  hub.setEncoder('messaging', (event) => encodeMessagingEvent(event, serializers));

  const eventMap = new Map<string, MessagingHandler>(Object.entries(defaultHandlers({ core, config, presenter })));
  for (const [eventType, handler] of Object.entries(handlers)) {
    if (handler === null) eventMap.delete(eventType);
    else eventMap.set(eventType, handler);
  }

  const sessions = new Map<UserId, Set<Session>>();
  const forget = (s: Session) => {
    const set = sessions.get(s.user.id);
    set?.delete(s);
    if (set?.size === 0) sessions.delete(s.user.id);
  };

  /** A reply to the user: to each of their sessions on this face, serialized once. */
  const sendToUser = (userId: UserId, frame: OutgoingFrame) => {
    const text = JSON.stringify(frame);
    for (const s of sessions.get(userId) ?? []) s.socket.send(text);
  };

  async function notifications(user: User): Promise<WireNotification[]> {
    const pending = await core.messages.pending(user);
    const wire = await presenter.messages(pending.flatMap((p) => p.messages));
    const byId = new Map(wire.map((m) => [m.id, m]));
    return pending.map((p) => ({
      room_id: p.conversation.id,
      count: p.total,
      messages: p.messages.flatMap((m) => byId.get(m.id) ?? []),
    }));
  }

  /**
   * Sends what the user missed since `from`, paced by what the client reads (`replayAll`).
   * Returns the cursor the client stands at afterwards and the log position up to which held
   * live frames are duplicates.
   */
  async function replay(s: Session, from: string): Promise<{ cursor: string; upTo: number }> {
    const outcome = await replayAll(
      hub,
      s.user.id,
      from,
      (event) => {
        const frame = hub.frameFor('messaging', event, s.user.id);
        if (frame === null) return 0;
        s.socket.send(frame);
        return frame.length;
      },
      s.socket.replayPacing(),
    );
    if (!outcome.ok) {
      s.socket.sendJson({ eventType: 'resync', data: { reason: outcome.reason, cursor: outcome.cursor } });
      return { cursor: outcome.cursor, upTo: 0 };
    }
    return { cursor: outcome.cursor, upTo: outcome.id };
  }

  /** Runs with live frames held, so none comes before `session.ready` or is lost in a replay. */
  async function setup(s: Session, from: string | null): Promise<void> {
    let upTo = 0;
    try {
      if (core.settings.enableNotification) s.socket.sendJson({ eventType: 'chat.notifications', data: await notifications(s.user) });
      let cursor: string;
      if (from) ({ cursor, upTo } = await replay(s, from));
      else {
        upTo = await hub.headId();
        cursor = encodeCursor(upTo);
      }
      s.socket.sendJson({ eventType: 'session.ready', data: { user_id: s.user.id, cursor } });
    } finally {
      s.socket.release(upTo);
    }
  }

  async function handle(s: Session, raw: RawData): Promise<void> {
    let eventType: string | undefined;
    try {
      const frame = decodeFrame(raw);
      eventType = frame.event_type;
      const handler = eventMap.get(frame.event_type);
      if (!handler) throw badFrame('invalid event type');
      await handler({
        user: s.user,
        data: frame.data,
        core,
        reply: (f) => sendToUser(s.user.id, f),
        socket: s.socket,
        session: { refresh: () => (s.lastHeartbeat = core.now().getTime()) },
      });
    } catch (err) {
      const { frame: f, fault } = describeError(err, deps.mapError);
      if (fault) log.error({ err, eventType, userId: s.user.id }, 'messaging: event failed');
      // A close reason is at most 123 bytes.
      if (f.error.code === UNAUTHENTICATED) s.socket.ws.close(UNAUTHENTICATED, Buffer.byteLength(f.error.detail) <= 123 ? f.error.detail : 'Unauthenticated.');
      else s.socket.sendJson(f);
    }
  }

  return {
    path: `/${config.websocketPath}`,
    face: 'messaging',
    unauthenticatedCloseCode: UNAUTHENTICATED,

    async onConnection(socket, { user, url }) {
      // First, before any await: live events already reach this socket.
      socket.hold();
      const s = new Session(socket, user, core.now().getTime());
      let set = sessions.get(user.id);
      if (!set) sessions.set(user.id, (set = new Set()));
      set.add(s);
      core.events.emit({ type: 'session.started', userId: user.id, sessionId: s.id, face: 'messaging', at: core.now() });
      socket.ws.on('close', () => {
        forget(s);
        core.events.emit({ type: 'session.ended', userId: user.id, sessionId: s.id, face: 'messaging', reason: s.expired ? 'expired' : 'closed', at: core.now() });
      });
      socket.ws.on('message', (raw) => {
        if (s.queued >= MAX_QUEUED_FRAMES) {
          socket.ws.close(CLOSE.policy, 'too many events in flight');
          return;
        }
        s.queued++;
        s.queue = s.queue.then(() => handle(s, raw)).finally(() => s.queued--);
      });
      const ready = setup(s, url.searchParams.get('cursor') || null);
      // Events sent during the setup wait for it; a failed setup closes the socket (1011).
      s.queue = ready.catch(() => {});
      await ready;
    },

    sweep() {
      const now = core.now().getTime();
      const limit = config.inactivityThreshold * 1000;
      for (const set of sessions.values()) {
        for (const s of set) {
          if (now - s.lastHeartbeat <= limit) continue;
          forget(s);
          s.expired = true;
          s.socket.ws.close(SESSION_EXPIRED, 'session expired');
        }
      }
    },
  };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function byteLength(raw: RawData): number {
  if (Array.isArray(raw)) return raw.reduce((n, b) => n + b.length, 0);
  return raw.byteLength;
}

/** Reads a client frame: `{"event_type": string, "data": object}` within the soft limit. */
function decodeFrame(raw: RawData): MessagingClientFrame {
  if (byteLength(raw) > SOFT_FRAME_LIMIT) throw badFrame(`Frame too large: at most ${SOFT_FRAME_LIMIT} bytes.`);
  const text = (Array.isArray(raw) ? Buffer.concat(raw) : Buffer.isBuffer(raw) ? raw : Buffer.from(raw)).toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw badFrame('Invalid JSON.');
  }
  if (!isObject(parsed)) throw badFrame('A frame must be a JSON object: {"event_type": "...", "data": {...}}.');
  if (typeof parsed.event_type !== 'string') throw badFrame('event_type: This field is required and must be a string.');
  if (!isObject(parsed.data)) throw badFrame('data: This field is required and must be an object.');
  return { event_type: parsed.event_type, data: parsed.data };
}
