/**
 * The command line: `image-task-bridge serve` (default), `translate <file|->` and `generate` (a client).
 */
import 'reflect-metadata';
import { CONFIG_VARIABLES, loadConfig } from '../config/config';
import type { Gateway } from '../http/gateway';
import { isBridgeError } from '../platform/errors';
import { runGenerate } from './generate';
import { CLIENT_ENV } from './generate-options';

/** Output streams and environment of one CLI run (tests pass their own). */
export interface CliIo {
  /** Standard output. */
  readonly stdout: NodeJS.WritableStream;
  /** Standard error. */
  readonly stderr: NodeJS.WritableStream;
  /** Standard input (translate -). */
  readonly stdin: NodeJS.ReadableStream;
  /** Environment. */
  readonly env: NodeJS.ProcessEnv;
}

/** The --help text (docs/operations.md, "The server", shows the same). */
export const HELP = `image-task-bridge — the platform image-task API in front of upstream image providers

Usage:
  image-task-bridge [serve]             start the HTTP server (the default command)
  image-task-bridge translate <file|-> [--adapter <id>]
                                        print the intent and upstream request a platform request becomes (no network)
  image-task-bridge generate --model <name> --prompt <text> --out <dir> [--image <file|url> ...] [--size WxH]
                            [--aspect-ratio R] [--n N] [--quality Q] [--output-format F] [--base-url URL] [--key KEY]
                                        a client: submit a task to a running bridge, show progress, save the images
                                        (${CLIENT_ENV.url}, ${CLIENT_ENV.key}; exit codes and all options: generate --help)
  image-task-bridge --help              this text

serve reads its configuration from the environment (defaults and meanings: docs/configuration.md):
${wrapVariables(CONFIG_VARIABLES)}
With no HUB_BASE_URL and no CONFIG_FILE channels, serve starts the built-in sandbox hub (it needs the
optional sharp package; without it serve exits 1 saying so) and, without GATEWAY_API_KEYS, prints a
development key. In sandbox mode NanoBanana runs on the sandbox's synchronous, Gemini-shaped endpoint
(the image comes back as bytes the bridge stores); every other model on the hub's submit-and-poll flow. Logs are JSON lines on stdout; the banner goes to stderr.
Exit codes: 0 normal stop, 1 start-up failure, 2 bad configuration. Operating the server: docs/operations.md.
`;

/** The variable names, two-space separated, wrapped at about 100 columns. */
function wrapVariables(names: readonly string[]): string {
  const lines: string[] = [];
  let current = ' ';
  for (const name of names) {
    if (current.length + name.length + 2 > 100) {
      lines.push(current);
      current = ' ';
    }
    current += ` ${name}`;
  }
  lines.push(current);
  return lines.join('\n');
}

function line(stream: NodeJS.WritableStream, text: string): void {
  stream.write(`${text}\n`);
}

/** The banner printed once the server listens. */
export function startBanner(gateway: Gateway): string {
  const key = gateway.developmentKey ?? '<one of GATEWAY_API_KEYS>';
  const lines = [`image-task-bridge listening on ${gateway.url}`];
  if (gateway.sandbox) {
    lines.push(
      '',
      '*** SANDBOX MODE: no HUB_BASE_URL or channels configured. Requests go to the built-in sandbox hub',
      `*** at ${gateway.sandbox.baseUrl}, which returns generated placeholder images, not real ones.`,
      '*** NanoBanana runs there as a synchronous upstream (Gemini-shaped): the call returns the image itself.',
    );
  }
  if (gateway.developmentKey) {
    lines.push(`*** Development key (valid until this process stops): ${gateway.developmentKey}`);
  }
  if (gateway.developmentWebhookSecret) {
    lines.push(`*** Development webhook secret (verify callback_url webhooks with it; valid until this process stops): ${gateway.developmentWebhookSecret}`);
  }
  lines.push(
    '',
    'Try it:',
    `  curl -X POST "${gateway.url}/v1/images/tasks" -H "Authorization: Bearer ${key}" -H "Content-Type: application/json" \\`,
    `    -d '{"model":"NanoBanana2-0.5K","prompt":"A small red cube on a white desk","aspect_ratio":"1:1"}'`,
    `  curl "${gateway.url}/v1/images/tasks/<task_id>" -H "Authorization: Bearer ${key}"`,
    '',
  );
  return lines.join('\n');
}

async function serve(io: CliIo): Promise<number> {
  let gateway: Gateway;
  try {
    // Loaded on use: `generate` (a client) starts without loading the server, the adapters or the sandbox.
    const { startGateway } = await import('../http/gateway');
    gateway = await startGateway(loadConfig(io.env));
  } catch (err) {
    if (isBridgeError(err) && err.name === 'ConfigError') {
      line(io.stderr, `image-task-bridge: configuration error: ${err.message}`);
      return 2;
    }
    const e = err as { code?: string; message?: string };
    line(io.stderr, `image-task-bridge: cannot start: ${e.code ? `${e.code}: ` : ''}${e.message ?? String(err)}`);
    return 1;
  }
  line(io.stderr, startBanner(gateway));
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals): void => {
      if (stopping) {
        line(io.stderr, `image-task-bridge: ${signal} again; exiting now`);
        resolve(1);
        return;
      }
      stopping = true;
      line(io.stderr, `image-task-bridge: ${signal}: finishing in-flight requests, then stopping`);
      gateway.close().then(
        () => {
          process.off('SIGTERM', stop);
          process.off('SIGINT', stop);
          line(io.stderr, 'image-task-bridge: stopped');
          resolve(0);
        },
        (err: unknown) => {
          line(io.stderr, `image-task-bridge: error while stopping: ${(err as Error).message}`);
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
}

/** Runs the CLI with `args` (without node and script); resolves with the exit code. */
export async function main(args: readonly string[], io: CliIo): Promise<number> {
  const [command = 'serve', ...rest] = args;
  if (command === '--help' || command === '-h' || command === 'help') {
    io.stdout.write(HELP);
    return 0;
  }
  if (command === 'serve') {
    if (rest.length > 0) {
      line(io.stderr, `image-task-bridge: serve takes no arguments (got ${rest.join(' ')}); configure it with environment variables. See --help.`);
      return 2;
    }
    return serve(io);
  }
  if (command === 'translate') return (await import('./translate')).runTranslate([...rest], io);
  if (command === 'generate') return runGenerate(rest, io);
  line(io.stderr, `image-task-bridge: unknown command "${command}". Commands: serve, translate, generate. See --help.`);
  return 2;
}

if (require.main === module) {
  main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env }).then(
    (code) => {
      process.exitCode = code;
      // Give pino's stdout writes a tick to flush, then leave even if a stray handle is still open.
      setTimeout(() => process.exit(code), 50).unref();
    },
    (err: unknown) => {
      process.stderr.write(`image-task-bridge: ${(err as Error).message}\n`);
      process.exit(1);
    },
  );
}
