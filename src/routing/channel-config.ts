/**
 * Channels from configuration: the `channels` array of CONFIG_FILE and the default hub channel from
 * HUB_BASE_URL/HUB_API_KEY. Keys are never in the file: each channel names the environment variable
 * that holds its key, and no error message ever quotes a key (or a value that might be one).
 */
import { z } from 'zod';
import { findModel, MODEL_NAMES } from '../platform/catalog';
import { ConfigError } from '../platform/errors';
import type { Channel } from './channels';
import type { AdapterRegistry } from './registry';

/** Environment variables, as in process.env. */
export type Env = Readonly<Record<string, string | undefined>>;

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** One entry of CONFIG_FILE `channels` (strict: unknown fields are errors). */
export const channelConfigSchema = z.strictObject({
  /** Unique channel id, stored with each task. */
  id: z.string().regex(ID_PATTERN, 'must be 1-64 letters, digits, "_", "-" or ".", starting with a letter or digit'),
  /** Adapter id (a folder under adapters/). */
  adapter: z.string().min(1, 'must name an adapter'),
  /** Base URL of the upstream (http or https, no credentials in it). */
  base_url: z.string().min(1, 'must be an http(s) URL'),
  /** Name of the environment variable that holds the key. */
  api_key_env: z.string().regex(ENV_NAME_PATTERN, 'must be the NAME of an environment variable (e.g. HUB_API_KEY), not the key itself'),
  /** Platform models this channel offers; absent means every model its adapter serves. */
  models: z.array(z.string()).min(1, 'must list at least one model, or be left out for all models').optional(),
  /** Higher is tried first (default 0). */
  priority: z.number().int('must be an integer').default(0),
  /** Relative share among channels of equal priority (default 1; 0 = only when the others fail). */
  weight: z.number().finite().nonnegative('must be 0 or more').default(1),
  /**
   * Copy each result image into the BlobStore when a task succeeds here, and give clients the bridge's URL
   * (for upstreams whose result URLs expire: fal, Replicate). Default false.
   */
  mirror_results: z.boolean('must be true or false').default(false),
  /**
   * Ask the upstream to hold the submit open up to this many seconds and answer the finished job (RFC 7240
   * `Prefer: wait=N`; Replicate's sync mode). The client's POST then takes up to as long. Absent: not sent.
   */
  prefer_wait_seconds: z.number().int('must be a whole number of seconds').min(1, 'must be 1 to 60').max(60, 'must be 1 to 60').optional(),
});

/** A parsed channel entry. */
export type ChannelConfig = z.infer<typeof channelConfigSchema>;

function where(index: number, field?: string | number | symbol): string {
  return `CONFIG_FILE channels[${index}]${field !== undefined ? `.${String(field)}` : ''}`;
}

function checkBaseUrl(value: string, label: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`${label} must be an absolute http(s) URL.`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(`${label} must use http or https (got ${url.protocol}).`);
  if (url.username || url.password) throw new ConfigError(`${label} must not contain credentials; the key comes from the environment.`);
  if (url.search || url.hash) throw new ConfigError(`${label} must not have a query or fragment.`);
  return value;
}

/**
 * Validates CONFIG_FILE `channels` and resolves each key from the environment variable it names.
 * Throws ConfigError (one line, naming the entry and field) on the first problem.
 */
export function channelsFromConfig(raw: unknown, env: Env, registry: AdapterRegistry): Channel[] {
  if (!Array.isArray(raw)) throw new ConfigError('CONFIG_FILE channels must be an array of channel objects.');
  const seen = new Set<string>();
  return raw.map((entry, index) => {
    if (typeof entry === 'object' && entry !== null && !Array.isArray(entry) && 'api_key' in entry) {
      throw new ConfigError(`${where(index, 'api_key')}: keys are never written in the config file; put the key in an environment variable and name it in api_key_env.`);
    }
    const parsed = channelConfigSchema.safeParse(entry);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = issue?.path[0];
      // zod's own text may quote the received value; for api_key_env that value could be a key.
      const message = issue?.code === 'unrecognized_keys' ? `unknown field(s) ${issue.keys.join(', ')}; allowed: ${Object.keys(channelConfigSchema.shape).join(', ')}` : (issue?.message ?? 'invalid');
      throw new ConfigError(`${issue?.code === 'unrecognized_keys' || field === undefined ? where(index) : where(index, field)}: ${message}.`);
    }
    const c = parsed.data;
    if (seen.has(c.id)) throw new ConfigError(`${where(index, 'id')}: the id "${c.id}" is used by another channel; ids must be unique.`);
    seen.add(c.id);
    if (!registry.has(c.adapter)) {
      throw new ConfigError(`${where(index, 'adapter')}: no adapter "${c.adapter.slice(0, 64)}" is registered (registered: ${registry.all().map((a) => a.id).join(', ')}).`);
    }
    const adapter = registry.get(c.adapter);
    for (const name of c.models ?? []) {
      const model = findModel(name);
      if (!model) throw new ConfigError(`${where(index, 'models')}: "${name.slice(0, 64)}" is not a platform model (models: ${MODEL_NAMES.join(', ')}).`);
      const support = adapter.capabilities[model.family];
      if (!support || (model.resolution !== undefined && !(support.resolutions ?? []).includes(model.resolution))) {
        throw new ConfigError(`${where(index, 'models')}: adapter "${c.adapter}" does not serve ${name}; remove it from the list.`);
      }
    }
    const apiKey = env[c.api_key_env]?.trim();
    if (!apiKey) throw new ConfigError(`${where(index, 'api_key_env')}: the environment variable ${c.api_key_env} is not set or empty; it must hold the key of channel ${c.id}.`);
    const channel: Channel = {
      id: c.id,
      adapterId: c.adapter,
      baseUrl: checkBaseUrl(c.base_url, where(index, 'base_url')),
      apiKey,
      ...(c.models ? { models: [...new Set(c.models)] } : {}),
      priority: c.priority,
      weight: c.weight,
      ...(c.mirror_results ? { mirrorResults: true } : {}),
      ...(c.prefer_wait_seconds !== undefined ? { preferWaitSeconds: c.prefer_wait_seconds } : {}),
    };
    return channel;
  });
}
