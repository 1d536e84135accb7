/**
 * Attachment and reply-quote shapes shared by the HTTP faces, the live frames and the client
 * SDK. File URLs are signed and short-lived (`uploads.urlTtlSeconds`): refetch the message, or
 * take them from a newer frame, for fresh ones.
 */

export interface WireAttachment {
  id: number;
  /** The original file name. */
  name: string;
  size: number;
  /** Decided from the file's bytes. */
  mime_type: string;
  media_type: 'image' | 'video' | 'audio' | 'file';
  width: number | null;
  height: number | null;
  /** Signed URL (no credentials needed), or the media URL for media given by URL. */
  url: string | null;
  /** Signed URL of a webp thumbnail, images only. */
  thumbnail_url: string | null;
  created_at: string;
}

/** The replied-to message, for quoting. */
export interface WireParent {
  id: number;
  sender: { id: number; username: string; display_name: string };
  /** The first 200 characters. */
  content: string;
  deleted: boolean;
}

/**
 * An attachment inside a logged live event. `stored` files get their URLs signed again each
 * time the event is encoded (live, or replayed later), so logged URLs never go stale.
 */
export interface LiveAttachment extends WireAttachment {
  stored: boolean;
  metadata: Record<string, unknown> | null;
}
