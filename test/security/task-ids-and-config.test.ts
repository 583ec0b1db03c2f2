import { loadConfig } from '../../src/config/config';
import { closeAppContainer, createAppContainer } from '../../src/di/container';
import { cryptoRandom } from '../../src/core/system';
import { NORMALIZE_OPTIONS, RANDOM, SUBMIT_LIMITER, TASK_OPTIONS } from '../../src/di/tokens';
import type { NormalizeOptions } from '../../src/intent/normalize';
import { MemorySubmitLimiter } from '../../src/security/submit-limiter';
import { newTaskId, type TaskServiceOptions } from '../../src/tasks/task-service';

describe('task ids', () => {
  it('the app draws them from node:crypto: task_ + 22 base64url characters of 128 random bits, no repeats', async () => {
    const c = createAppContainer(loadConfig({ HUB_BASE_URL: 'http://hub.test', HUB_API_KEY: 'k', GATEWAY_API_KEYS: 'sk-test-0001', LOG_LEVEL: 'silent' }), { processMetrics: false });
    try {
      expect(c.resolve(RANDOM)).toBe(cryptoRandom);
    } finally {
      await closeAppContainer(c);
    }
    const ids = new Set(Array.from({ length: 10_000 }, () => newTaskId(cryptoRandom)));
    expect(ids.size).toBe(10_000);
    for (const id of ids) {
      expect(id).toMatch(/^task_[A-Za-z0-9_-]{22}$/);
      expect(Buffer.from(id.slice(5), 'base64url')).toHaveLength(16);
    }
  });
});

describe('configuration of the safety features', () => {
  const base = { HUB_BASE_URL: 'http://hub.test', HUB_API_KEY: 'k', GATEWAY_API_KEYS: 'sk-test-0001', LOG_LEVEL: 'silent' };

  it.each([
    [{ REFERENCE_URL_POLICY: 'open' }, 'REFERENCE_URL_POLICY must be one of public, any, allowlist; got "open".'],
    [{ REFERENCE_URL_POLICY: 'allowlist' }, 'REFERENCE_URL_POLICY=allowlist needs REFERENCE_URL_ALLOW_HOSTS (comma-separated hosts, *.example.com for subdomains).'],
    [{ REFERENCE_URL_ALLOW_HOSTS: 'cdn.example.com,https://x/y' }, 'REFERENCE_URL_ALLOW_HOSTS: "https://x/y" is not a host name or IP address.'],
    [{ RATE_LIMIT_PER_MINUTE: '0' }, 'RATE_LIMIT_PER_MINUTE must be at least 1; got 0.'],
    [{ RATE_LIMIT_BURST: 'lots' }, 'RATE_LIMIT_BURST must be a whole number; got "lots".'],
    [{ MAX_OPEN_TASKS_PER_OWNER: '-1' }, 'MAX_OPEN_TASKS_PER_OWNER must be a whole number; got "-1".'],
    [{ IDEMPOTENCY_TTL_MS: '1h' }, 'IDEMPOTENCY_TTL_MS must be a whole number; got "1h".'],
  ])('rejects %j with one line', (env, message) => {
    expect(() => loadConfig({ ...base, ...env })).toThrow(message);
  });

  it('the container wires the URL policy, the limiter and the idempotency TTL from the configuration', async () => {
    const c = createAppContainer(loadConfig({ ...base, REFERENCE_URL_POLICY: 'any', IDEMPOTENCY_TTL_MS: '60000' }), { processMetrics: false });
    try {
      const options = c.resolve<NormalizeOptions>(NORMALIZE_OPTIONS);
      expect(options.checkUrl?.(new URL('http://127.0.0.1/a.png'))).toBeUndefined();
      expect(c.resolve<TaskServiceOptions>(TASK_OPTIONS).idempotencyTtlMs).toBe(60_000);
      expect(c.resolve(SUBMIT_LIMITER)).toBeInstanceOf(MemorySubmitLimiter);
    } finally {
      await closeAppContainer(c);
    }
    const strict = createAppContainer(loadConfig(base), { processMetrics: false });
    try {
      expect(strict.resolve<NormalizeOptions>(NORMALIZE_OPTIONS).checkUrl?.(new URL('http://127.0.0.1/a.png'))).toBe(
        'the host 127.0.0.1 is a loopback address; reference images must be on a public host',
      );
    } finally {
      await closeAppContainer(strict);
    }
  });
});
