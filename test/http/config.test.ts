import { DEFAULT_PRICES } from '../../src/tasks/pricing';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, parseGatewayKeys, ownerForKey, DEFAULT_BLOB_URL_TTL_MS, DEFAULT_LIMITS } from '../../src/config/config';

function configError(fn: () => unknown): { name: string; message: string } {
  try {
    fn();
  } catch (err) {
    return { name: (err as Error).name, message: (err as Error).message };
  }
  throw new Error('expected a ConfigError');
}

const WEBHOOK_SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
const KEYS = 'sk-alpha-123:alice,sk-bravo-456';

describe('loadConfig', () => {
  it('applies the documented defaults and runs the sandbox when no upstream is configured', () => {
    const config = loadConfig({});
    expect(config).toStrictEqual({
      port: 8080,
      host: '127.0.0.1',
      apiKeys: [],
      sandbox: true,
      taskStore: 'memory',
      redisUrl: 'redis://127.0.0.1:6379',
      redisKeyPrefix: 'itb:',
      logLevel: 'info',
      limits: DEFAULT_LIMITS,
      referenceUrls: { mode: 'public', allowHosts: [] },
      webhooks: { allowHosts: [], retryMaxMs: 86_400_000 },
      resultUrls: { mode: 'http', allowHosts: [] },
      prices: DEFAULT_PRICES,
      blobs: { store: 'fs', dir: join(tmpdir(), 'image-task-bridge-blobs'), urlTtlMs: DEFAULT_BLOB_URL_TTL_MS },
      file: {},
      channelEnv: {},
    });
  });

  it('reads every variable', () => {
    const config = loadConfig({
      PORT: '9090',
      HOST: '0.0.0.0',
      GATEWAY_API_KEYS: KEYS,
      HUB_BASE_URL: 'https://hub.example.com/',
      HUB_API_KEY: 'hub-secret',
      TASK_STORE: 'redis',
      REDIS_URL: 'redis://10.0.0.5:6380',
      REDIS_KEY_PREFIX: 'gw:',
      LOG_LEVEL: 'debug',
      BODY_LIMIT_BYTES: '1000',
      UPLOAD_LIMIT_BYTES: '500',
      MAX_REFERENCE_IMAGES: '4',
      MAX_PROMPT_LENGTH: '2000',
      MAX_URL_LENGTH: '1000',
      POLL_INTERVAL_MS: '2000',
      TASK_DEADLINE_MS: '60000',
        QUERY_WAIT_MS: '1500',
      SHUTDOWN_GRACE_MS: '3000',
      RATE_LIMIT_PER_MINUTE: '30',
      RATE_LIMIT_BURST: '5',
      MAX_OPEN_TASKS_PER_OWNER: '7',
      IDEMPOTENCY_TTL_MS: '3600000',
      REDIS_COMMAND_TIMEOUT_MS: '750',
      MAX_CONNECTIONS: '64',
      ENGINE_CONCURRENCY: '8',
      POLL_CONCURRENCY_PER_CHANNEL: '4',
      POLL_RATE_PER_CHANNEL: '50',
      REFERENCE_URL_POLICY: 'allowlist',
      REFERENCE_URL_ALLOW_HOSTS: 'cdn.example.com, *.Images.Example.org',
      PUBLIC_BASE_URL: 'https://images.example.com/bridge/',
      BLOB_STORE: 'fs',
      BLOB_DIR: '/var/lib/itb/blobs',
      BLOB_URL_SECRET: 'a-secret-of-at-least-32-characters!',
      BLOB_URL_TTL_MS: '3600000',
      WEBHOOK_SECRET: WEBHOOK_SECRET,
      WEBHOOK_ALLOW_HOSTS: 'Hooks.Internal.example, *.corp.example.com, 10.0.0.9',
      WEBHOOK_RETRY_MAX_MS: '600000',
      RESULT_URL_POLICY: 'allowlist',
      RESULT_URL_ALLOW_HOSTS: '*.CDN.example.net',
    });
    expect(config).toStrictEqual({
      port: 9090,
      host: '0.0.0.0',
      apiKeys: [
        { key: 'sk-alpha-123', owner: 'alice', label: 'alice' },
        { key: 'sk-bravo-456', owner: ownerForKey('sk-bravo-456'), label: ownerForKey('sk-bravo-456') },
      ],
      hub: { baseUrl: 'https://hub.example.com', apiKey: 'hub-secret' },
      sandbox: false,
      taskStore: 'redis',
      redisUrl: 'redis://10.0.0.5:6380',
      redisKeyPrefix: 'gw:',
      logLevel: 'debug',
      limits: {
        bodyBytes: 1000,
        uploadBytes: 500,
        maxReferences: 4,
        maxPromptLength: 2000,
        maxUrlLength: 1000,
        pollIntervalMs: 2000,
        taskDeadlineMs: 60000,
        queryWaitMs: 1500,
        shutdownGraceMs: 3000,
        rateLimitPerMinute: 30,
        rateLimitBurst: 5,
        maxOpenTasksPerOwner: 7,
        idempotencyTtlMs: 3600000,
        redisCommandTimeoutMs: 750,
        maxConnections: 64,
        engineConcurrency: 8,
        pollConcurrencyPerChannel: 4,
        pollRatePerChannel: 50,
      },
      referenceUrls: { mode: 'allowlist', allowHosts: ['cdn.example.com', '*.images.example.org'] },
      webhooks: { secret: WEBHOOK_SECRET, allowHosts: ['hooks.internal.example', '*.corp.example.com', '10.0.0.9'], retryMaxMs: 600_000 },
      resultUrls: { mode: 'allowlist', allowHosts: ['*.cdn.example.net'] },
      prices: DEFAULT_PRICES,
      blobs: {
        store: 'fs',
        dir: '/var/lib/itb/blobs',
        urlSecret: 'a-secret-of-at-least-32-characters!',
        urlTtlMs: 3600000,
        publicBaseUrl: 'https://images.example.com/bridge',
      },
      file: {},
      channelEnv: {},
    });
  });

  it('derives a stable owner that does not reveal the key', () => {
    const owner = ownerForKey('sk-bravo-456');
    expect(owner).toMatch(/^key_[0-9a-f]{12}$/);
    expect(owner).not.toContain('bravo');
    expect(parseGatewayKeys(' sk-bravo-456 ')).toStrictEqual([{ key: 'sk-bravo-456', owner, label: owner }]);
  });

  it.each([
    [{ PORT: 'eighty' }, 'PORT must be a whole number; got "eighty".'],
    [{ PORT: '70000' }, 'PORT must be 0-65535; got 70000.'],
    [{ TASK_STORE: 'postgres' }, 'TASK_STORE must be memory or redis; got "postgres".'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent; got "loud".'],
    [{ HUB_BASE_URL: 'https://hub.example.com', GATEWAY_API_KEYS: KEYS }, 'HUB_API_KEY is required when HUB_BASE_URL is set.'],
    [{ HUB_API_KEY: 'x' }, 'HUB_API_KEY is set but HUB_BASE_URL is not; set both, or neither for the sandbox hub.'],
    [{ HUB_BASE_URL: 'ftp://hub', HUB_API_KEY: 'k', GATEWAY_API_KEYS: KEYS }, 'HUB_BASE_URL must use http: or https:; got ftp:.'],
    [{ HUB_BASE_URL: 'not a url', HUB_API_KEY: 'k', GATEWAY_API_KEYS: KEYS }, 'HUB_BASE_URL is not a valid URL.'],
    [
      { HUB_BASE_URL: 'https://hub.example.com', HUB_API_KEY: 'k' },
      'GATEWAY_API_KEYS is required when an upstream is configured (comma-separated "key" or "key:owner").',
    ],
    [{ GATEWAY_API_KEYS: 'short' }, 'GATEWAY_API_KEYS entry 1: the key must be at least 8 characters.'],
    [{ GATEWAY_API_KEYS: 'sk-alpha-123,sk-alpha-123' }, 'GATEWAY_API_KEYS entry 2: the same key is listed twice.'],
    [{ GATEWAY_API_KEYS: 'sk-alpha-123:bad owner' }, 'GATEWAY_API_KEYS entry 1: the owner must be 1-64 characters of A-Z a-z 0-9 . _ @ -.'],
    [{ GATEWAY_API_KEYS: ' , ' }, 'GATEWAY_API_KEYS is set but lists no key.'],
    [{ REDIS_URL: 'http://127.0.0.1' }, 'REDIS_URL must use redis: or rediss:; got http:.'],
    [{ POLL_INTERVAL_MS: '0' }, 'POLL_INTERVAL_MS must be at least 1; got 0.'],
    [{ UPLOAD_LIMIT_BYTES: '10MB' }, 'UPLOAD_LIMIT_BYTES must be a whole number; got "10MB".'],
    [{ WEBHOOK_ALLOW_HOSTS: 'https://hooks.example.com/x' }, 'WEBHOOK_ALLOW_HOSTS: "https://hooks.example.com/x" is not a host name or IP address.'],
    [{ WEBHOOK_RETRY_MAX_MS: '1h' }, 'WEBHOOK_RETRY_MAX_MS must be a whole number; got "1h".'],
  ])('rejects %j with one clear line', (env, message) => {
    const err = configError(() => loadConfig(env));
    expect(err).toStrictEqual({ name: 'ConfigError', message });
    expect(err.message).not.toContain('\n');
  });

  it.each([
    ['not-a-whsec-secret-at-all', 'WEBHOOK_SECRET must be "whsec_" followed by base64 (e.g. from `openssl rand -base64 32`).'],
    ['whsec_dG9vLXNob3J0', 'WEBHOOK_SECRET must carry 24 to 64 bytes of key after whsec_ (base64 of 32 random bytes is usual); it carries 9.'],
    ['whsec_bm90IHBhZGRlZA', 'WEBHOOK_SECRET must be "whsec_" followed by padded base64 (its length after whsec_ must be a multiple of 4).'],
  ])('a malformed WEBHOOK_SECRET stops start-up with one line that does not quote it', (secret, message) => {
    const err = configError(() => loadConfig({ WEBHOOK_SECRET: secret }));
    expect(err).toStrictEqual({ name: 'ConfigError', message });
    expect(err.message).not.toContain(secret.slice('whsec_'.length));
  });

  it('ENGINE_CONCURRENCY may be 0 (an instance without an engine worker); the per-channel poll limits may not', () => {
    expect(loadConfig({ ENGINE_CONCURRENCY: '0' }).limits.engineConcurrency).toBe(0);
    expect(configError(() => loadConfig({ POLL_RATE_PER_CHANNEL: '0' }))).toStrictEqual({ name: 'ConfigError', message: 'POLL_RATE_PER_CHANNEL must be at least 1; got 0.' });
    expect(configError(() => loadConfig({ POLL_CONCURRENCY_PER_CHANNEL: '0' }))).toStrictEqual({ name: 'ConfigError', message: 'POLL_CONCURRENCY_PER_CHANNEL must be at least 1; got 0.' });
  });

  it('never puts a key into an error message', () => {
    const err = configError(() => loadConfig({ GATEWAY_API_KEYS: 'sk-alpha-123,has space-in-it' }));
    expect(err.message).toBe('GATEWAY_API_KEYS entry 2: the key must not contain whitespace.');
  });

  describe('CONFIG_FILE', () => {
    const reader = (files: Record<string, string>) => (path: string) => {
      const text = files[path];
      if (text === undefined) throw Object.assign(new Error('nope'), { code: 'ENOENT' });
      return text;
    };

    it('reports a missing file, bad JSON and unknown keys in one line', () => {
      expect(configError(() => loadConfig({ CONFIG_FILE: '/x.json' }, { readFile: reader({}) })).message).toBe('CONFIG_FILE /x.json cannot be read (ENOENT).');
      expect(configError(() => loadConfig({ CONFIG_FILE: '/x.json' }, { readFile: reader({ '/x.json': '{nope' }) })).message).toMatch(
        /^CONFIG_FILE \/x\.json is not valid JSON: .+\.$/,
      );
      expect(configError(() => loadConfig({ CONFIG_FILE: '/x.json' }, { readFile: reader({ '/x.json': '{"chanels":[]}' }) })).message).toMatch(
        /^CONFIG_FILE \/x\.json: \(root\): .*chanels.*\.$/,
      );
    });
  });
});
