import multipart from '@fastify/multipart';
import { Type as T } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { PassThrough, type Readable } from 'node:stream';
import { type FileStorage, ParleyError, invalid } from '../../core/index.js';
import { RASTER_IMAGE_TYPES, UploadProcessor } from '../../storage/uploads.js';
import { AttachmentOut, attachmentOut } from '../http/attachments.js';
import { requireUser } from '../http/authenticate.js';
import { installErrorHandler, restErrors } from '../http/errors.js';
import { type FaceDeps, typed } from '../http/face-deps.js';
import { Id, commonErrors } from '../http/schemas.js';

const FileParams = T.Object({ id: Id });
const FileQuery = T.Object({
  exp: T.Optional(T.Integer({ description: 'Expiry of a signed URL (unix seconds).' })),
  sig: T.Optional(T.String({ maxLength: 128, description: 'Signature of a signed URL.' })),
  thumb: T.Optional(T.String({ description: '`1`: the thumbnail (images).' })),
});

/**
 * Uploads and file downloads under `/messages/api/`:
 * - `POST uploads/` takes one `multipart/form-data` part named `file`, streamed to storage.
 *   Multipart parsing is registered in this scope only, so every JSON route is unchanged.
 *   With `uploadRateLimit`, the core counts uploads per user before the body is read.
 * - `GET files/{id}/` serves a file to a signed URL (no credentials, for `<img src>`) or to an
 *   authenticated member of its conversation.
 */
export const uploadsFace =
  ({ core, config }: FaceDeps, files: FileStorage): FastifyPluginAsync =>
  async (scope) => {
    const app = typed(scope);
    installErrorHandler(scope, restErrors);
    const { maxBytes } = config.uploads;
    // busboy's own limit sits above ours, so the storage's count is the one that trips (413).
    await scope.register(multipart, { limits: { fileSize: maxBytes + 64 * 1024, files: 1, parts: 16, fields: 8, fieldSize: 1024 } });
    const processor = new UploadProcessor(files, core.attachments, config.uploads, core.now);

    app.post(
      '/uploads/',
      {
        schema: {
          tags: ['attachments'],
          summary: 'Upload a file (multipart/form-data, one part named `file`); attach it by id when sending',
          description: `Over \`uploads.maxBytes\` → 413; a type not in \`uploads.allowedTypes\` (decided from the bytes) → 415; over \`uploadRateLimit\` → 429 + \`Retry-After\`, before the body is read. Unattached uploads are deleted after \`uploads.unattachedTtlHours\`.`,
          consumes: ['multipart/form-data'],
          response: { 201: AttachmentOut, ...commonErrors },
        },
        // onRequest runs before the body is parsed or read: an upload over the limit costs no
        // bandwidth to storage and leaves no file behind.
        onRequest: async (request) => core.attachments.admitUpload(requireUser(request)),
      },
      async (request, reply) => {
        const actor = requireUser(request);
        if (!request.isMultipart()) throw invalid('file', 'Send multipart/form-data with one file part named "file".');
        let part;
        try {
          part = await request.file();
        } catch (e) {
          throw multipartError(e);
        }
        if (!part) throw invalid('file', 'No file was submitted.');
        if (part.fieldname !== 'file') {
          part.file.resume();
          throw invalid('file', 'No file was submitted: name the file part "file".');
        }
        let attachment;
        try {
          attachment = await processor.upload(actor, wholePart(part.file), part.filename);
        } catch (e) {
          throw multipartError(e);
        }
        return reply.code(201).send(attachmentOut(core, attachment));
      },
    );

    app.get(
      '/files/:id/',
      {
        schema: {
          tags: ['attachments'],
          summary: 'Download a file (signed URL, or as a member of its conversation)',
          description:
            'Signed URLs (`exp`, `sig`) need no credentials and expire after `uploads.urlTtlSeconds`: an expired one is 403, a wrong one 404. Without a signature, the uploader (before it is attached) or a member of the conversation may read it. `thumb=1`: the webp thumbnail. Supports single `Range` requests.',
          params: FileParams,
          querystring: FileQuery,
        },
      },
      async (request, reply) => {
        const q = request.query;
        const thumb = q.thumb === '1' || q.thumb === 'true';
        const opened = await core.attachments.open(request.user, request.params.id, { exp: q.exp, sig: q.sig, thumb });
        const stat = await files.stat(opened.key);
        if (!stat) throw new ParleyError('not_found', 'Not found.');
        const a = opened.attachment;
        const mime = thumb ? 'image/webp' : a.mimeType;
        setFileHeaders(reply, mime, a.name, thumb || RASTER_IMAGE_TYPES.includes(mime));
        const range = parseRange(request.headers.range, stat.size);
        if (range === 'unsatisfiable') {
          return reply.code(416).header('Content-Range', `bytes */${stat.size}`).send();
        }
        const stream = await files.open(opened.key, range ?? undefined);
        if (!stream) throw new ParleyError('not_found', 'Not found.');
        if (range) {
          reply.code(206).header('Content-Range', `bytes ${range.start}-${range.end}/${stat.size}`);
          reply.header('Content-Length', String(range.end - range.start + 1));
        } else {
          reply.header('Content-Length', String(stat.size));
        }
        return reply.send(stream);
      },
    );
  };

/**
 * The headers that keep a file from being run as a page: the stored (sniffed) type, nosniff,
 * and `inline` only for raster images; everything else (SVG and HTML included) downloads as an
 * attachment with its original name, in a sandbox should a browser render it anyway.
 */
function setFileHeaders(reply: FastifyReply, mime: string, name: string, inline: boolean): void {
  reply.header('Content-Type', mime.startsWith('text/') ? `${mime}; charset=utf-8` : mime);
  reply.header('X-Content-Type-Options', 'nosniff');
  reply.header('Cache-Control', 'private, max-age=300');
  reply.header('Content-Security-Policy', "default-src 'none'; sandbox");
  // Signed URLs are meant for `<img src>` on embedding sites.
  reply.header('Cross-Origin-Resource-Policy', 'cross-origin');
  reply.header('Accept-Ranges', 'bytes');
  reply.header('Content-Disposition', contentDisposition(inline ? 'inline' : 'attachment', name));
}

/** RFC 6266 / RFC 5987: an ASCII fallback name plus the exact UTF-8 name. */
export function contentDisposition(kind: 'inline' | 'attachment', name: string): string {
  const ascii = name.replace(/[^\x20-\x7E]/g, '_').replace(/["\\]/g, '_');
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

/** One `bytes=a-b` range (or `a-`, `-n`); several ranges are answered with the whole file. */
function parseRange(header: string | undefined, size: number): { start: number; end: number } | null | 'unsatisfiable' {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m) return null;
  const [, a = '', b = ''] = m;
  if (a === '' && b === '') return null;
  let start: number;
  let end: number;
  if (a === '') {
    const n = Number(b);
    if (n === 0) return 'unsatisfiable';
    start = Math.max(0, size - n);
    end = size - 1;
  } else {
    start = Number(a);
    end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
  }
  if (start >= size || start > end) return 'unsatisfiable';
  return { start, end };
}

/** A file part whose request body ended (or was cut) before the part did. */
class TruncatedUpload extends Error {}

/**
 * The part's bytes as a stream that always ends: busboy fails a part whose body stops before
 * the closing boundary with an 'error' and a 'close' that a consumer attached later (storage
 * first creates directories) never sees, leaving the upload, its temp file and descriptor
 * waiting for ever. Here any close before the end is an error the storage sees, whenever it
 * starts reading, so the request is answered 400 and the temp file removed.
 */
function wholePart(file: Readable): Readable {
  if (file.destroyed && !file.readableEnded) throw new TruncatedUpload('multipart part was cut short');
  const body = new PassThrough();
  // Storage may attach its own listeners only later; until then an error must not go unheard
  // (it is kept on the stream and seen by whoever reads it).
  body.on('error', () => undefined);
  file.once('error', (err) => body.destroy(new TruncatedUpload(err.message)));
  file.once('close', () => {
    if (!file.readableEnded) body.destroy(new TruncatedUpload('multipart part was cut short'));
  });
  file.pipe(body);
  return body;
}

/** Multipart's own errors, in the face's terms. */
function multipartError(e: unknown): unknown {
  if (e instanceof ParleyError) return e;
  if (e instanceof TruncatedUpload) return invalid('file', 'The upload ended before its closing multipart boundary: send the whole body.');
  // busboy's refusals of a malformed multipart header (no boundary, bad syntax).
  if (e instanceof Error && /boundary|malformed|multipart/i.test(e.message) && !(e as { statusCode?: number }).statusCode) {
    return invalid('file', 'Send multipart/form-data with a boundary and one file part named "file".');
  }
  const code = (e as { code?: unknown }).code;
  if (code === 'FST_REQ_FILE_TOO_LARGE' || code === 'FST_FILES_LIMIT' || code === 'FST_PARTS_LIMIT') {
    return code === 'FST_REQ_FILE_TOO_LARGE' ? new ParleyError('payload_too_large', 'The file is too large.') : invalid('file', 'Send one file part named "file".');
  }
  if (code === 'FST_INVALID_MULTIPART_CONTENT_TYPE' || code === 'FST_MULTIPART_INVALID_CONTENT_TYPE') {
    return invalid('file', 'Send multipart/form-data with one file part named "file".');
  }
  return e;
}
