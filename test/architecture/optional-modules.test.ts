/**
 * Optional infrastructure loads on use (docs/architecture.md, "Optional infrastructure loads on use"): a gateway on the
 * memory store and local blobs builds its whole graph (store, submit limiter, blob store, scheduler, engine, webhook
 * notifier, task API) without loading ioredis, BullMQ or the AWS SDK. Each of the three is mocked by a factory that
 * records the load and hands on the real module, so a static import anywhere in that graph shows up here; the loaders
 * of src/di/optional-modules.ts are checked to be seen by the same record.
 */
import { describe, expect, jest, test } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const mockLoaded: string[] = [];
jest.mock('ioredis', () => {
  mockLoaded.push('ioredis');
  return jest.requireActual('ioredis');
});
jest.mock('bullmq', () => {
  mockLoaded.push('bullmq');
  return jest.requireActual('bullmq');
});
jest.mock('@aws-sdk/client-s3', () => {
  mockLoaded.push('@aws-sdk/client-s3');
  return jest.requireActual('@aws-sdk/client-s3');
});

describe('optional infrastructure modules', () => {
  test('a gateway on the memory store and local blobs, with webhooks, loads none of ioredis, BullMQ and the AWS SDK', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'itb-optional-'));
    mockLoaded.length = 0;
    try {
      await jest.isolateModulesAsync(async () => {
        const { loadConfig } = await import('../../src/config/config');
        const { closeAppContainer, createAppContainer } = await import('../../src/di/container');
        const tokens = await import('../../src/di/tokens');
        const config = loadConfig({ GATEWAY_API_KEYS: 'optional-modules-key-0001:alice', HUB_API_KEY: 'hub-key', HUB_BASE_URL: 'http://127.0.0.1:9', WEBHOOK_SECRET: `whsec_${Buffer.alloc(32, 7).toString('base64')}`, LOG_LEVEL: 'silent', BLOB_DIR: join(dir, 'blobs') });
        const c = createAppContainer(config, { processMetrics: false });
        try {
          for (const token of [tokens.TASK_STORE, tokens.SUBMIT_LIMITER, tokens.BLOB_STORE, tokens.TASK_SCHEDULER, tokens.TASK_NOTIFIER, tokens.TASK_ENGINE, tokens.TASK_API]) c.resolve(token);
        } finally {
          await closeAppContainer(c);
        }
      });
      expect(mockLoaded).toStrictEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the loaders of the Redis and S3 parts load their modules (the record above would see an import)', async () => {
    mockLoaded.length = 0;
    await jest.isolateModulesAsync(async () => {
      const loaders = await import('../../src/di/optional-modules');
      loaders.loadRedisTaskStore();
      loaders.loadBullMqTaskScheduler();
      loaders.loadS3BlobStore();
    });
    expect([...new Set(mockLoaded)].sort()).toStrictEqual(['@aws-sdk/client-s3', 'bullmq', 'ioredis']);
  });
});
