import { fileTypeFromBuffer } from 'file-type';
import type { Readable } from 'node:stream';
import sharp from 'sharp';
import { type Attachments, FileTooLargeError, type FileStorage, ParleyError, newStorageKey } from '../core/index.js';
import type { Attachment, MediaType, User } from '../core/types.js';

/** Limits an upload is checked against (`uploads` in the config). */
export interface UploadLimits {
  maxBytes: number;
  /** MIME types or `type/*` patterns. */
  allowedTypes: readonly string[];
}

/** Largest thumbnail side, in pixels. */
export const THUMBNAIL_SIZE = 320;
/** Images with more pixels than this are refused (decompression bombs): 50 megapixels. */
export const MAX_INPUT_PIXELS = 50_000_000;
/** Raster images sharp reads for dimensions and thumbnails; the only types ever served inline. */
export const RASTER_IMAGE_TYPES: readonly string[] = ['image/png', 'image/jpeg', 'image/gif', 'image/webp'];
/** How many leading bytes are sniffed. */
const SNIFF_BYTES = 4100;

/** Whether `mime` matches one of `patterns` (`image/png`, `image/*`). */
export function typeAllowed(mime: string, patterns: readonly string[]): boolean {
  return patterns.some((p) => p === mime || (p.endsWith('/*') && mime.startsWith(p.slice(0, -1))));
}

/** How clients show a file of this (sniffed) type. SVG is a file: it may hold script. */
export function mediaTypeOf(mime: string): MediaType {
  if (RASTER_IMAGE_TYPES.includes(mime) || mime === 'image/avif' || mime === 'image/bmp' || mime === 'image/tiff') return 'image';
  if (mime.startsWith('video/')) return 'video';
  if (mime.startsWith('audio/')) return 'audio';
  return 'file';
}

/**
 * The type of a file from its first bytes: `file-type`'s magic numbers for binary formats, then
 * a fallback for text (which has none): markup that a browser would render (HTML, SVG, XML)
 * is named as such so it can be refused or never served inline; other valid UTF-8 without
 * control characters is `text/plain`; anything else `application/octet-stream`.
 */
export async function sniffType(head: Buffer): Promise<string> {
  const detected = await fileTypeFromBuffer(head);
  if (detected) return detected.mime === 'application/xml' ? sniffText(head) ?? detected.mime : detected.mime;
  return sniffText(head) ?? 'application/octet-stream';
}

function sniffText(head: Buffer): string | null {
  // A cut multi-byte sequence at the end of the sniffed window is not a reason to say "binary".
  const text = new TextDecoder('utf-8', { fatal: false }).decode(head);
  const body = text.endsWith('\uFFFD') ? text.replace(/\uFFFD+$/, '') : text;
  if (body.includes('\uFFFD') || /[\u0000-\u0008\u000B\u000E-\u001F\u007F]/.test(body)) return null;
  const start = body.replace(/^\uFEFF/, '').trimStart().slice(0, 1024).toLowerCase();
  if (/<svg[\s>]/.test(start)) return 'image/svg+xml';
  if (/^<!doctype html|<html[\s>]|<head[\s>]|<body[\s>]|<script[\s>]|<iframe[\s>]|<meta[\s>]|<!--/.test(start)) return 'text/html';
  if (start.startsWith('<?xml')) return 'application/xml';
  return 'text/plain';
}

/** A file name safe to store and show: no path, no control or bidi characters, at most 255 characters. */
export function cleanFileName(raw: string | undefined): string {
  // Browsers send `"` and line breaks in multipart file names as %22, %0D, %0A (HTML spec).
  const unescaped = (raw ?? '').replace(/%22/g, '"').replace(/%0[DA]/gi, '');
  const base = unescaped.split(/[\\/]/).pop() ?? '';
  // Bidirectional controls too: `invoice\u202Efdp.exe` would show as `invoiceexe.pdf`.
  const cleaned = base.replace(/[\u0000-\u001F\u007F-\u009F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/g, '').trim();
  return [...cleaned].slice(0, 255).join('') || 'file';
}

/**
 * Stores one upload: streams it to storage under the size limit, decides its type from its
 * bytes, refuses types that are not allowed, reads image dimensions and makes a thumbnail,
 * then records it (unattached). Any refusal leaves no file and no row behind.
 */
export class UploadProcessor {
  constructor(
    private readonly files: FileStorage,
    private readonly attachments: Attachments,
    private readonly limits: UploadLimits,
    private readonly now: () => Date,
  ) {}

  async upload(actor: User, stream: Readable, fileName: string | undefined): Promise<Attachment> {
    const now = this.now();
    const key = newStorageKey(now);
    let size: number;
    try {
      ({ size } = await this.files.put(key, stream, { maxBytes: this.limits.maxBytes }));
    } catch (e) {
      if (e instanceof FileTooLargeError) {
        throw new ParleyError('payload_too_large', `The file is larger than the ${formatBytes(this.limits.maxBytes)} limit.`);
      }
      throw e;
    }
    let thumbnailKey: string | null = null;
    try {
      const mime = await sniffType(await this.head(key));
      if (!typeAllowed(mime, this.limits.allowedTypes)) {
        throw new ParleyError('unsupported_media_type', `Files of type ${mime} are not allowed.`);
      }
      let width: number | null = null;
      let height: number | null = null;
      if (RASTER_IMAGE_TYPES.includes(mime)) {
        ({ width, height } = await this.dimensions(key));
        thumbnailKey = `${key}.thumb.webp`;
        await this.thumbnail(key, thumbnailKey);
      }
      return await this.attachments.register({
        uploaderId: actor.id,
        storageKey: key,
        thumbnailKey,
        name: cleanFileName(fileName),
        size,
        mimeType: mime,
        mediaType: mediaTypeOf(mime),
        width,
        height,
        externalUrl: null,
        metadata: null,
        now,
      });
    } catch (e) {
      await this.files.delete(key).catch(() => false);
      if (thumbnailKey !== null) await this.files.delete(thumbnailKey).catch(() => false);
      throw e;
    }
  }

  private async head(key: string): Promise<Buffer> {
    const stream = await this.files.open(key, { start: 0, end: SNIFF_BYTES - 1 });
    if (!stream) throw new Error(`upload ${key} vanished from storage`);
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  private async read(key: string): Promise<Readable> {
    const stream = await this.files.open(key);
    if (!stream) throw new Error(`upload ${key} vanished from storage`);
    return stream;
  }

  private async dimensions(key: string): Promise<{ width: number; height: number }> {
    try {
      const meta = await (await this.read(key)).pipe(sharp({ limitInputPixels: MAX_INPUT_PIXELS })).metadata();
      if (!meta.width || !meta.height) throw new Error('no dimensions');
      if (meta.width * meta.height > MAX_INPUT_PIXELS) throw new Error('too many pixels');
      // EXIF orientations 5–8 are shown rotated a quarter turn.
      return (meta.orientation ?? 1) >= 5 ? { width: meta.height, height: meta.width } : { width: meta.width, height: meta.height };
    } catch {
      throw new ParleyError('unsupported_media_type', 'The image could not be read (damaged, or larger than 50 megapixels).');
    }
  }

  private async thumbnail(key: string, thumbKey: string): Promise<void> {
    const pipeline = sharp({ limitInputPixels: MAX_INPUT_PIXELS })
      .rotate()
      .resize(THUMBNAIL_SIZE, THUMBNAIL_SIZE, { fit: 'inside', withoutEnlargement: true })
      .webp({ quality: 80 });
    (await this.read(key)).pipe(pipeline);
    try {
      await this.files.put(thumbKey, pipeline, { maxBytes: this.limits.maxBytes + 1024 * 1024 });
    } catch {
      throw new ParleyError('unsupported_media_type', 'The image could not be read (damaged, or larger than 50 megapixels).');
    }
  }
}

export function formatBytes(n: number): string {
  if (n >= 1024 * 1024 && n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}
