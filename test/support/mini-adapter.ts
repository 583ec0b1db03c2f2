/** Stub adapters: one that serves plain NanoBanana text2image only (router and channel-config tests), one for the upstream client. */
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

/** A stub adapter for the upstream client's tests: id `hub`, Bearer auth, errors read from `{ error: { message } }`. */
export const bearerAdapter: ImageAdapter = {
  id: 'hub',
  capabilities: {},
  authHeaders: (apiKey) => ({ Authorization: `Bearer ${apiKey}` }),
  buildSubmit: () => {
    throw new Error('not used');
  },
  parseSubmit: () => ({ kind: 'handle', ref: { id: 'x' } }),
  buildPoll: (ref) => ({ method: 'GET', path: `/hub/v1/tasks/${ref.id}` }),
  parsePoll: () => ({ kind: 'state', state: { status: 'queued', images: [] } }),
  describeError: (body) => {
    const message = (body as { error?: { message?: unknown } } | undefined)?.error?.message;
    return typeof message === 'string' ? message : undefined;
  },
};
