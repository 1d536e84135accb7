import { randomUUID } from 'node:crypto';
import type { RawData } from 'ws';
import { type User, isParleyError } from '../../core/index.js';
import type { MessagesClientFrame, MessagesControl } from '../../protocol/index.js';
import type { FaceDeps } from '../http/face-deps.js';
import type { LiveSocket } from '../ws/live-socket.js';
import type { WsConnectionContext, WsRoute } from '../ws/upgrade.js';
import { errorDetail } from './errors.js';
import { headPosition, presenceFrames, replayAll } from './replay.js';

const sendControl = (socket: LiveSocket, frame: MessagesControl) => socket.sendJson(frame);

/**
 * `/messages/ws/`: live events of the Django Messaging API (seed 003) over a WebSocket.
 *
 * On connect, with `?cursor=`, the events missed since that cursor are replayed (or a
 * `resync` frame says why they cannot be); then `ready` gives the position the live events
 * continue from, followed by a `presence` frame for each contact online now (see
 * `RealtimeHub.presenceSnapshot`), then the live events. Client frames: `ping` and `typing`;
 * sending messages goes through REST.
 */
export function messagesWsRoute(deps: FaceDeps): WsRoute {
  return {
    path: '/messages/ws/',
    face: 'messages',
    unauthenticatedCloseCode: 4001,
    onConnection: (socket, ctx) => connect(deps, socket, ctx),
  };
}

async function connect({ hub, core, log, mapError }: FaceDeps, socket: LiveSocket, ctx: WsConnectionContext): Promise<void> {
  // Live frames wait while the log is replayed, so nothing is lost, doubled or reordered.
  socket.hold();
  const user = ctx.user;
  const sessionId = randomUUID();
  core.events.emit({ type: 'session.started', userId: user.id, sessionId, face: 'messages', at: core.now() });
  socket.ws.on('close', () => {
    core.events.emit({ type: 'session.ended', userId: user.id, sessionId, face: 'messages', reason: 'closed', at: core.now() });
  });
  socket.ws.on('message', (data, isBinary) => {
    onClientFrame({ core, log, mapError }, socket, user, data, isBinary).catch((err: unknown) => log.error({ err }, 'messages ws: frame handling failed'));
  });

  // The connection is registered already (upgrade.ts), so a presence change after this read is
  // held and follows the snapshot: the client ends on the newest state. Read alongside the replay.
  const snapshot = presenceFrames(hub, user.id, log);
  const requested = ctx.url.searchParams.get('cursor');
  let position;
  if (requested === null) {
    position = await headPosition(hub);
  } else {
    const outcome = await replayAll(
      hub,
      user.id,
      requested,
      (event) => {
        const frame = hub.frameFor('messages', event, user.id);
        if (frame === null) return 0;
        socket.send(frame);
        return frame.length;
      },
      socket.replayPacing(),
    );
    if (!outcome.ok) sendControl(socket, { type: 'resync', reason: outcome.reason, cursor: outcome.cursor });
    position = outcome;
  }
  // An event the replay read from the log may still be on its way through the broker. With
  // the in-process broker, publishing is delivery: once the hub has published everything
  // emitted so far, such an event is in the held frames, where `release` drops it. (A remote
  // broker can deliver later still: then only LiveSocket can drop it.)
  await hub.flush();
  const presence = await snapshot;
  // `ready` goes before the held frames: its cursor is the replay's end, and the cursor of
  // every later frame is greater, so a client that keeps the last cursor it saw never goes back.
  sendControl(socket, { type: 'ready', user_id: user.id, cursor: position.cursor });
  for (const frame of presence) socket.send(frame);
  socket.release(position.id);
}

async function onClientFrame(
  { core, log, mapError }: Pick<FaceDeps, 'core' | 'log' | 'mapError'>,
  socket: LiveSocket,
  user: User,
  data: RawData,
  isBinary: boolean,
): Promise<void> {
  const frame = isBinary ? null : parseClientFrame(rawText(data));
  if (typeof frame === 'string' || frame === null) {
    sendControl(socket, { type: 'error', detail: frame ?? 'Binary frames are not supported.' });
    return;
  }
  switch (frame.type) {
    case 'ping':
      sendControl(socket, { type: 'pong' });
      return;
    case 'typing':
      try {
        await core.messages.typing(user, frame.chat_id, frame.is_typing);
      } catch (err) {
        if (!isParleyError(err) || err.code === 'internal' || err.code === 'unavailable') log.error({ err }, 'messages ws: typing failed');
        sendControl(socket, { type: 'error', detail: errorDetail(err, mapError) });
      }
      return;
  }
}

function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}

/** A client frame, or the detail of why it is not one. */
export function parseClientFrame(text: string): MessagesClientFrame | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'Malformed JSON frame.';
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'A frame must be a JSON object.';
  const f = value as Record<string, unknown>;
  switch (f.type) {
    case 'ping':
      return { type: 'ping' };
    case 'typing': {
      const chatId = f.chat_id;
      if (typeof chatId !== 'number' || !Number.isSafeInteger(chatId) || chatId < 1) return 'typing: chat_id must be a chat id.';
      if (typeof f.is_typing !== 'boolean') return 'typing: is_typing must be true or false.';
      return { type: 'typing', chat_id: chatId, is_typing: f.is_typing };
    }
    default:
      return typeof f.type === 'string' ? `Unknown frame type "${f.type.slice(0, 40)}".` : 'A frame needs a "type".';
  }
}
