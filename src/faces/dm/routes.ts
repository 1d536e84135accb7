import type { FastifyPluginAsync } from 'fastify';
import type { FaceDeps } from '../http/face-deps.js';

export const dmFace =
  (_deps: FaceDeps): FastifyPluginAsync =>
  async () => {};
