import { channelsFromConfig } from '../../src/routing/channel-config';
import { AdapterRegistry } from '../../src/routing/registry';
import { HubAdapter } from '../../adapters/hub/hub-adapter';
import { miniAdapter } from '../support/mini-adapter';

const registry = new AdapterRegistry([new HubAdapter(), miniAdapter]);
const env = { HUB_KEY_A: 'secret-a', HUB_KEY_B: ' secret-b ', MINI_KEY: 'secret-m', EMPTY: '  ' };

function configError(fn: () => unknown): { name: string; code: string; message: string } {
  try {
    fn();
  } catch (err) {
    const e = err as { name: string; code: string; message: string };
    return { name: e.name, code: e.code, message: e.message };
  }
  throw new Error('expected a ConfigError');
}

describe('channelsFromConfig', () => {
  it('builds channels with defaults, keys from the named environment variables', () => {
    const channels = channelsFromConfig(
      [
        { id: 'hub-a', adapter: 'hub', base_url: 'https://a.hub.test', api_key_env: 'HUB_KEY_A' },
        { id: 'hub-b', adapter: 'hub', base_url: 'https://b.hub.test/api/', api_key_env: 'HUB_KEY_B', models: ['NanoBanana2-1K', 'gpt-image-2', 'gpt-image-2'], priority: 5, weight: 2.5 },
        { id: 'mini', adapter: 'mini', base_url: 'http://127.0.0.1:9000', api_key_env: 'MINI_KEY', models: ['NanoBanana'], weight: 0 },
      ],
      env,
      registry,
    );
    expect(channels).toStrictEqual([
      { id: 'hub-a', adapterId: 'hub', baseUrl: 'https://a.hub.test', apiKey: 'secret-a', priority: 0, weight: 1 },
      { id: 'hub-b', adapterId: 'hub', baseUrl: 'https://b.hub.test/api/', apiKey: 'secret-b', models: ['NanoBanana2-1K', 'gpt-image-2'], priority: 5, weight: 2.5 },
      { id: 'mini', adapterId: 'mini', baseUrl: 'http://127.0.0.1:9000', apiKey: 'secret-m', models: ['NanoBanana'], priority: 0, weight: 0 },
    ]);
  });

  const ok = { id: 'c', adapter: 'hub', base_url: 'https://hub.test', api_key_env: 'HUB_KEY_A' };
  const cases: Array<[string, unknown, string]> = [
    ['not an array', { id: 'c' }, 'CONFIG_FILE channels must be an array of channel objects.'],
    ['an entry that is not an object', ['hub'], 'CONFIG_FILE channels[0]: Invalid input: expected object, received string.'],
    ['a key written in the file', [{ ...ok, api_key: 'sk-live-abcdef' }], 'CONFIG_FILE channels[0].api_key: keys are never written in the config file; put the key in an environment variable and name it in api_key_env.'],
    ['a key in api_key_env', [{ ...ok, api_key_env: 'sk-live-abcdef' }], 'CONFIG_FILE channels[0].api_key_env: must be the NAME of an environment variable (e.g. HUB_API_KEY), not the key itself.'],
    ['an unset key variable', [{ ...ok, api_key_env: 'NOT_SET' }], 'CONFIG_FILE channels[0].api_key_env: the environment variable NOT_SET is not set or empty; it must hold the key of channel c.'],
    ['an empty key variable', [{ ...ok, api_key_env: 'EMPTY' }], 'CONFIG_FILE channels[0].api_key_env: the environment variable EMPTY is not set or empty; it must hold the key of channel c.'],
    ['a missing field', [{ id: 'c', adapter: 'hub', api_key_env: 'HUB_KEY_A' }], 'CONFIG_FILE channels[0].base_url: Invalid input: expected string, received undefined.'],
    ['an unknown field', [{ ...ok, baseUrl: 'x' }], 'CONFIG_FILE channels[0]: unknown field(s) baseUrl; allowed: id, adapter, base_url, api_key_env, models, priority, weight, mirror_results, prefer_wait_seconds.'],
    ['a bad id', [{ ...ok, id: 'a b' }], 'CONFIG_FILE channels[0].id: must be 1-64 letters, digits, "_", "-" or ".", starting with a letter or digit.'],
    ['a duplicate id', [ok, { ...ok }], 'CONFIG_FILE channels[1].id: the id "c" is used by another channel; ids must be unique.'],
    ['an unknown adapter', [{ ...ok, adapter: 'fal2' }], 'CONFIG_FILE channels[0].adapter: no adapter "fal2" is registered (registered: hub, mini).'],
    ['an unknown model', [{ ...ok, models: ['NanoBanana3'] }], 'CONFIG_FILE channels[0].models: "NanoBanana3" is not a platform model (models: NanoBanana, NanoBanana2-0.5K, NanoBanana2-1K, NanoBanana2-2K, NanoBanana2-4K, NanoBananaPro-1K, NanoBananaPro-2K, NanoBananaPro-4K, NanoBananaPro-8K, gpt-image-2).'],
    ['a model the adapter does not serve (tier)', [{ ...ok, models: ['NanoBananaPro-8K'] }], 'CONFIG_FILE channels[0].models: adapter "hub" does not serve NanoBananaPro-8K; remove it from the list.'],
    ['a model the adapter does not serve (family)', [{ ...ok, adapter: 'mini', models: ['gpt-image-2'] }], 'CONFIG_FILE channels[0].models: adapter "mini" does not serve gpt-image-2; remove it from the list.'],
    ['an empty model list', [{ ...ok, models: [] }], 'CONFIG_FILE channels[0].models: must list at least one model, or be left out for all models.'],
    ['a negative weight', [{ ...ok, weight: -1 }], 'CONFIG_FILE channels[0].weight: must be 0 or more.'],
    ['a fractional priority', [{ ...ok, priority: 1.5 }], 'CONFIG_FILE channels[0].priority: must be an integer.'],
    ['mirror_results that is not a boolean', [{ ...ok, mirror_results: 'yes' }], 'CONFIG_FILE channels[0].mirror_results: must be true or false.'],
    ['prefer_wait_seconds of 0', [{ ...ok, prefer_wait_seconds: 0 }], 'CONFIG_FILE channels[0].prefer_wait_seconds: must be 1 to 60.'],
    ['prefer_wait_seconds over 60', [{ ...ok, prefer_wait_seconds: 61 }], 'CONFIG_FILE channels[0].prefer_wait_seconds: must be 1 to 60.'],
    ['fractional prefer_wait_seconds', [{ ...ok, prefer_wait_seconds: 2.5 }], 'CONFIG_FILE channels[0].prefer_wait_seconds: must be a whole number of seconds.'],
    ['a base URL with credentials', [{ ...ok, base_url: 'https://user:pw@hub.test' }], 'CONFIG_FILE channels[0].base_url must not contain credentials; the key comes from the environment.'],
    ['a base URL with a query', [{ ...ok, base_url: 'https://hub.test/?key=1' }], 'CONFIG_FILE channels[0].base_url must not have a query or fragment.'],
    ['a non-http base URL', [{ ...ok, base_url: 'ftp://hub.test' }], 'CONFIG_FILE channels[0].base_url must use http or https (got ftp:).'],
    ['a relative base URL', [{ ...ok, base_url: 'hub.test' }], 'CONFIG_FILE channels[0].base_url must be an absolute http(s) URL.'],
  ];
  it('reads mirror_results and prefer_wait_seconds (absent: off)', () => {
    const channels = channelsFromConfig([{ ...ok, mirror_results: true, prefer_wait_seconds: 10 }, { ...ok, id: 'd', mirror_results: false }], env, registry);
    expect(channels).toStrictEqual([
      { id: 'c', adapterId: 'hub', baseUrl: 'https://hub.test', apiKey: 'secret-a', priority: 0, weight: 1, mirrorResults: true, preferWaitSeconds: 10 },
      { id: 'd', adapterId: 'hub', baseUrl: 'https://hub.test', apiKey: 'secret-a', priority: 0, weight: 1 },
    ]);
  });

  it.each(cases)('rejects %s with one clear line', (_name, raw, message) => {
    expect(configError(() => channelsFromConfig(raw, env, registry))).toStrictEqual({ name: 'ConfigError', code: 'internal_error', message });
  });

  it('never quotes a key, even one pasted in the wrong field', () => {
    const key = 'sk-live-0123456789abcdef';
    for (const raw of [[{ ...ok, api_key: key }], [{ ...ok, api_key_env: key }], [{ ...ok, api_key_env: `${key} x` }]]) {
      expect(configError(() => channelsFromConfig(raw, { ...env, [key]: 'x' }, registry)).message).not.toContain(key);
    }
  });
});
