import type { Attachment, MediaType } from '../../core/types.js';

/** An `attachments` row as better-sqlite3 returns it (times in ms, metadata as JSON text). */
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
  metadata: string | null;
  created_at: number;
}

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
  metadata: r.metadata === null ? null : (JSON.parse(r.metadata) as Record<string, unknown>),
  createdAt: new Date(r.created_at),
});
