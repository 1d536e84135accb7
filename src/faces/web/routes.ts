import type { FastifyPluginAsync } from 'fastify';
import type { FaceDeps } from '../http/face-deps.js';

export const webFace =
  (_deps: FaceDeps): FastifyPluginAsync =>
  async () => {};
