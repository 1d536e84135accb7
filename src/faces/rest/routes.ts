import type { FastifyPluginAsync } from 'fastify';
import type { FaceDeps } from '../http/face-deps.js';

export const restFace =
  (_deps: FaceDeps): FastifyPluginAsync =>
  async () => {};
