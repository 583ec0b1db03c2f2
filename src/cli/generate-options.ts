/**
 * `image-task-bridge generate`: its options, environment variables, exit codes and help text, and the
 * parsing of the command line into GenerateOptions. Values the server judges (model, size, quality, ...)
 * are passed on unchanged: the server's error names the field and the allowed values.
 */

/** Environment variables the client reads (flags win over them). */
export const CLIENT_ENV = {
  /** Base URL of the bridge. */
  url: 'IMAGE_TASK_BRIDGE_URL',
  /** API key (prefer it to --key: a flag is visible in the process list). */
  key: 'IMAGE_TASK_BRIDGE_KEY',
} as const;

/** Base URL when neither --base-url nor IMAGE_TASK_BRIDGE_URL is given: `npm start`'s default. */
export const DEFAULT_BASE_URL = 'http://127.0.0.1:8080';

/** Exit codes of generate, one per outcome. */
export const EXIT = {
  /** The task succeeded and every image was saved. */
  succeeded: 0,
  /** The task failed (the bridge accepted it; generation failed). */
  taskFailed: 1,
  /** Bad usage: unknown or missing option, bad value, no key, unreadable --image file, unusable --out. */
  usage: 2,
  /** The bridge answered an HTTP error (the error envelope's code and message are printed). */
  apiError: 3,
  /** Network or file error: the bridge or an image URL could not be reached, a download failed, a file could not be written. */
  network: 4,
  /** The task was still running when --timeout ran out. */
  timeout: 5,
} as const;

/** How progress is shown on stderr. */
export type ProgressMode = 'auto' | 'bar' | 'plain' | 'none';

/** The parsed command line. */
export interface GenerateOptions {
  /** Platform model name. */
  readonly model: string;
  /** Prompt text. */
  readonly prompt: string;
  /** --image values in order: local files are uploaded, URLs and data URIs are sent as references. */
  readonly images: readonly string[];
  /** Platform fields passed through as given (size, aspect_ratio, quality, output_format). */
  readonly fields: Readonly<Record<string, string>>;
  /** n and seed, checked to be integers. */
  readonly integers: Readonly<Record<string, number>>;
  /** Directory the images are saved in (created when missing). */
  readonly out: string;
  /** Base URL of the bridge, without a trailing slash. */
  readonly baseUrl: string;
  /** API key. */
  readonly key: string;
  /** Idempotency-Key header, when given. */
  readonly idempotencyKey?: string;
  /** Milliseconds between queries. */
  readonly intervalMs: number;
  /** Milliseconds to wait for a terminal status. */
  readonly timeoutMs: number;
  /** Progress display. */
  readonly progress: ProgressMode;
}

/** The result of parsing: options, a request for help, or a usage error. */
export type ParsedGenerate = { kind: 'run'; options: GenerateOptions } | { kind: 'help' } | { kind: 'error'; message: string };

/** The help text of `generate` (docs/cli.md shows the same). */
export const GENERATE_HELP = `image-task-bridge generate — submit one image task, follow it, save the images

Usage:
  image-task-bridge generate --model <name> --prompt <text> --out <dir> [options]

Request (passed to the bridge; it checks them and names any bad value):
  --model <name>            platform model, e.g. gpt-image-2, NanoBanana2-1K
  --prompt <text>           what to generate
  --image <file|url>        reference image, repeatable: a local file is uploaded (multipart),
                            an http(s) URL or data: URI is sent as a reference
  --size <WxH>              e.g. 1024x1024 (required for gpt-image-2)
  --aspect-ratio <ratio>    e.g. 16:9 (Nano models)
  --n <count>               number of images
  --quality <q>             low, medium or high (gpt-image-2)
  --output-format <f>       png, jpeg or webp
  --seed <int>              random seed
  --idempotency-key <key>   sent as Idempotency-Key: re-running with the same key returns the same task

Client:
  --out <dir>               where the images are saved (created if missing); the paths are printed on stdout
  --base-url <url>          the bridge (default: $${CLIENT_ENV.url}, else ${DEFAULT_BASE_URL})
  --key <key>               API key (default: $${CLIENT_ENV.key}; prefer the variable, flags show in ps)
  --interval <seconds>      time between queries (default 1)
  --timeout <seconds>       stop waiting after this long (default 900)
  --progress <mode>         auto (a bar when stderr is a terminal, plain lines otherwise), bar, plain, none

Exit codes: ${EXIT.succeeded} succeeded and saved; ${EXIT.taskFailed} the task failed; ${EXIT.usage} bad usage; ${EXIT.apiError} the bridge answered an HTTP
error; ${EXIT.network} network or file error (bridge or image unreachable, download or write failed); ${EXIT.timeout} still running at --timeout.
`;

const VALUE_FLAGS = [
  'model',
  'prompt',
  'image',
  'size',
  'aspect-ratio',
  'n',
  'quality',
  'output-format',
  'seed',
  'idempotency-key',
  'out',
  'base-url',
  'key',
  'interval',
  'timeout',
  'progress',
] as const;
type Flag = (typeof VALUE_FLAGS)[number];

/** Flags that are platform fields passed through unchanged, with their field names. */
const PASS_THROUGH: Partial<Record<Flag, string>> = { size: 'size', 'aspect-ratio': 'aspect_ratio', quality: 'quality', 'output-format': 'output_format' };

function seconds(flag: string, value: string, max: number): number | string {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || !(n > 0) || n > max) return `--${flag} must be a number of seconds greater than 0 and at most ${max}; got "${value}".`;
  return Math.round(n * 1000);
}

/** Parses `args` (after the word generate) with `env` for the defaults. */
export function parseGenerateArgs(args: readonly string[], env: NodeJS.ProcessEnv): ParsedGenerate {
  const values = new Map<Flag, string[]>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--help' || arg === '-h') return { kind: 'help' };
    const match = /^--([a-z-]+)(?:=([\s\S]*))?$/.exec(arg);
    const name = match?.[1];
    if (!match || !name || !(VALUE_FLAGS as readonly string[]).includes(name)) {
      return { kind: 'error', message: `unknown ${arg.startsWith('-') ? 'option' : 'argument'} "${arg}". See generate --help.` };
    }
    const value = match[2] ?? args[++i];
    if (value === undefined) return { kind: 'error', message: `--${name} needs a value. See generate --help.` };
    const flag = name as Flag;
    if (flag !== 'image' && values.has(flag)) return { kind: 'error', message: `--${flag} was given twice; give it once.` };
    values.set(flag, [...(values.get(flag) ?? []), value]);
  }
  const one = (flag: Flag): string | undefined => values.get(flag)?.[0];

  const missing = (['model', 'prompt', 'out'] as const).filter((f) => one(f) === undefined);
  if (missing.length > 0) return { kind: 'error', message: `missing ${missing.map((f) => `--${f}`).join(', ')}. See generate --help.` };

  const fields: Record<string, string> = {};
  for (const [flag, field] of Object.entries(PASS_THROUGH) as Array<[Flag, string]>) {
    const value = one(flag);
    if (value !== undefined) fields[field] = value;
  }
  const integers: Record<string, number> = {};
  for (const flag of ['n', 'seed'] as const) {
    const value = one(flag);
    if (value === undefined) continue;
    if (!/^\d{1,10}$/.test(value)) return { kind: 'error', message: `--${flag} must be a whole number; got "${value}".` };
    integers[flag] = Number(value);
  }

  const rawUrl = one('base-url') ?? env[CLIENT_ENV.url] ?? DEFAULT_BASE_URL;
  let base: URL;
  try {
    base = new URL(rawUrl);
  } catch {
    return { kind: 'error', message: `the base URL "${rawUrl}" is not a URL (--base-url or ${CLIENT_ENV.url}).` };
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') return { kind: 'error', message: `the base URL must be http or https; got ${base.protocol}` };
  if (base.username || base.password) return { kind: 'error', message: `the base URL must not carry credentials; give the API key with ${CLIENT_ENV.key} or --key.` };
  if (base.search || base.hash) return { kind: 'error', message: 'the base URL must not have a query or fragment.' };

  const key = one('key') ?? env[CLIENT_ENV.key];
  if (key === undefined || key.trim() === '') return { kind: 'error', message: `no API key: set ${CLIENT_ENV.key} (or pass --key).` };

  const progress = one('progress') ?? 'auto';
  if (!['auto', 'bar', 'plain', 'none'].includes(progress)) return { kind: 'error', message: `--progress must be auto, bar, plain or none; got "${progress}".` };

  const intervalMs = seconds('interval', one('interval') ?? '1', 60);
  if (typeof intervalMs === 'string') return { kind: 'error', message: intervalMs };
  const timeoutMs = seconds('timeout', one('timeout') ?? '900', 86_400);
  if (typeof timeoutMs === 'string') return { kind: 'error', message: timeoutMs };

  const idempotencyKey = one('idempotency-key');
  return {
    kind: 'run',
    options: {
      model: one('model') as string,
      prompt: one('prompt') as string,
      images: values.get('image') ?? [],
      fields,
      integers,
      out: one('out') as string,
      baseUrl: base.toString().replace(/\/+$/, ''),
      key,
      ...(idempotencyKey !== undefined ? { idempotencyKey } : {}),
      intervalMs,
      timeoutMs,
      progress: progress as ProgressMode,
    },
  };
}
