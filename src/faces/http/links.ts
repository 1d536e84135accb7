import type { FastifyRequest } from 'fastify';

/**
 * An absolute link to the current endpoint with some query parameters replaced (null
 * removes one), as DRF builds its `next`/`previous` links: on `publicUrl` when configured,
 * else on the host the request came to.
 */
export function linkWith(request: FastifyRequest, params: Record<string, string | number | null>, publicUrl: string | null = null): string {
  const url = new URL(publicUrl ? `${publicUrl}${request.url}` : `${request.protocol}://${request.host}${request.url}`);
  for (const [k, v] of Object.entries(params)) {
    if (v === null) url.searchParams.delete(k);
    else url.searchParams.set(k, String(v));
  }
  return url.toString();
}

/** `next`/`previous` links of page-number pagination. */
export function pageLinks(request: FastifyRequest, page: number, size: number, total: number, publicUrl: string | null = null) {
  return {
    next: page * size < total ? linkWith(request, { page: page + 1 }, publicUrl) : null,
    previous: page > 1 ? linkWith(request, { page: page === 2 ? null : page - 1 }, publicUrl) : null,
  };
}
