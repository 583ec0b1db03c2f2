/** A stub adapter that serves plain NanoBanana text2image only (for router and channel-config tests). */
import type { ImageAdapter } from '../../src/adapter-kit/contract';

export const miniAdapter: ImageAdapter = {
  id: 'mini',
  capabilities: { 'nano-banana': { taskTypes: ['text2image'], formats: ['png'], maxImages: 1, maxReferences: 0 } },
  authHeaders: () => ({}),
  buildSubmit: () => {
    throw new Error('not used');
  },
  parseSubmit: () => ({ kind: 'handle', ref: { id: 'x' } }),
  buildPoll: () => ({ method: 'GET', path: '/' }),
  parsePoll: () => ({ kind: 'state', state: { status: 'queued', images: [] } }),
};
