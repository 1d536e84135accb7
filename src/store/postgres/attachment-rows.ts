import type { Attachment, MediaType } from '../../core/types.js';

/** An `attachments` row as node-postgres returns it (int8 → number, jsonb → object). */
export interface AttachmentRow {
  id: number;
  uploader_id: number;
  message_id: number | null;
  storage_key: string | null;
  thumbnail_key: string | null;
  name: string;
  size: number;
  mime_type: string;
  media_type: MediaType;
  width: number | null;
  height: number | null;
  external_url: string | null;
  metadata: Record<string, unknown> | null;
  created_at: Date;
}

export const attachmentColumns = (alias?: string): string =>
  [
    'id', 'uploader_id', 'message_id', 'storage_key', 'thumbnail_key', 'name', 'size', 'mime_type', 'media_type', 'width', 'height',
    'external_url', 'metadata', 'created_at',
  ]
    .map((n) => (alias ? `${alias}.${n}` : n))
    .join(', ');

export const toAttachment = (r: AttachmentRow): Attachment => ({
  id: r.id,
  uploaderId: r.uploader_id,
  messageId: r.message_id,
  storageKey: r.storage_key,
  thumbnailKey: r.thumbnail_key,
  name: r.name,
  size: r.size,
  mimeType: r.mime_type,
  mediaType: r.media_type,
  width: r.width,
  height: r.height,
  externalUrl: r.external_url,
  metadata: r.metadata,
  createdAt: r.created_at,
});
