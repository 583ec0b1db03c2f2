/**
 * `image-task-bridge generate`: a client for people. Submits one task (JSON, or multipart when an --image is
 * a local file), follows it with a progress display on stderr, saves the images into --out, prints their
 * paths on stdout (one per line, nothing else), and exits with the code of the outcome (generate-options.ts
 * EXIT, shown in --help).
 */
import { isTerminal, type PlatformTask } from '../platform/task';
import { BridgeClient, ClientError, type SubmitBody } from './bridge-client';
import { EXIT, GENERATE_HELP, parseGenerateArgs, type GenerateOptions } from './generate-options';
import { prepareOutDir, readReferences, saveImage } from './image-files';
import { createProgressReporter, type ProgressReporter } from './progress';

/** Streams and environment of one run. */
export interface GenerateIo {
  /** Saved file paths, one per line. */
  readonly stdout: NodeJS.WritableStream;
  /** Progress, warnings and errors. */
  readonly stderr: NodeJS.WritableStream;
  /** IMAGE_TASK_BRIDGE_URL, IMAGE_TASK_BRIDGE_KEY, TERM. */
  readonly env: NodeJS.ProcessEnv;
}

/** Time, injectable so tests can run the poll loop on their own clock. */
export interface GenerateClock {
  /** Milliseconds (any origin). */
  now(): number;
  /** Waits `ms` between queries. */
  sleep(ms: number): Promise<void>;
}

const realClock: GenerateClock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

const PREFIX = 'image-task-bridge generate';

async function submitBody(options: GenerateOptions): Promise<SubmitBody> {
  const { urls, files } = await readReferences(options.images);
  const fields: Record<string, string | number | readonly string[]> = { model: options.model, prompt: options.prompt, ...options.fields, ...options.integers };
  if (files.length > 0) {
    // Multipart: files are `image` parts; URLs go as repeated `images` text parts.
    if (urls.length > 0) fields.images = urls;
  } else if (urls.length === 1) {
    fields.image = urls[0] as string;
  } else if (urls.length > 1) {
    fields.images = urls;
  }
  return { fields, files };
}

/** Follows the task until it is terminal or the timeout runs out; reports every answer. */
async function follow(client: BridgeClient, first: PlatformTask, options: GenerateOptions, clock: GenerateClock, started: number, report: (t: PlatformTask) => void): Promise<PlatformTask | undefined> {
  let task = first;
  while (!isTerminal(task.status)) {
    if (clock.now() - started >= options.timeoutMs) return undefined;
    await clock.sleep(options.intervalMs);
    task = await client.get(task.task_id);
    report(task);
  }
  return task;
}

/** Runs generate with `args` (after the word generate); resolves with the exit code. */
export async function runGenerate(args: readonly string[], io: GenerateIo, clock: GenerateClock = realClock): Promise<number> {
  const parsed = parseGenerateArgs(args, io.env);
  if (parsed.kind === 'help') {
    io.stdout.write(GENERATE_HELP);
    return EXIT.succeeded;
  }
  if (parsed.kind === 'error') {
    io.stderr.write(`${PREFIX}: ${parsed.message}\n`);
    return EXIT.usage;
  }
  const options = parsed.options;
  const started = clock.now();
  let progress: ProgressReporter | undefined;
  /** Set while the task is followed: a network failure then leaves a running task worth querying later. */
  let following: string | undefined;
  try {
    const body = await submitBody(options);
    await prepareOutDir(options.out);
    const client = new BridgeClient(options.baseUrl, options.key);
    progress = createProgressReporter(options.progress, io.stderr, io.env, () => clock.now() - started);
    const shown = new Set<string>();
    const report = (task: PlatformTask): void => {
      progress?.update(task);
      // Warnings are shown once each, as soon as they appear (converted parameters are never silent).
      for (const w of task.metadata.warnings ?? []) {
        const line = `warning: ${w.code} (${w.param}): ${w.message}`;
        if (!shown.has(line)) progress?.message(line);
        shown.add(line);
      }
    };

    const submitted = await client.submit(body, options.idempotencyKey);
    const taskId = submitted.task_id;
    following = taskId;
    report(submitted);
    const task = await follow(client, submitted, options, clock, started, report);
    following = undefined;
    progress.finish();
    if (!task) {
      io.stderr.write(`${PREFIX}: ${taskId} is still running after ${options.timeoutMs / 1000} s; query it later: GET ${options.baseUrl}/v1/images/tasks/${taskId}\n`);
      return EXIT.timeout;
    }
    if (task.status === 'failed') {
      io.stderr.write(`${PREFIX}: ${task.task_id} failed: ${task.error?.code ?? 'unknown'}: ${task.error?.message ?? 'no reason given'}\n`);
      return EXIT.taskFailed;
    }
    const urls = task.metadata.result_urls ?? (task.result_url !== null ? [task.result_url] : []);
    if (urls.length === 0) {
      io.stderr.write(`${PREFIX}: ${task.task_id} succeeded without any image URL.\n`);
      return EXIT.taskFailed;
    }
    for (const [i, url] of urls.entries()) {
      const { bytes, contentType } = await client.download(url);
      io.stdout.write(`${await saveImage(options.out, task.task_id, i + 1, bytes, contentType)}\n`);
    }
    io.stderr.write(`${task.task_id}: saved ${urls.length} image${urls.length === 1 ? '' : 's'} in ${options.out}\n`);
    return EXIT.succeeded;
  } catch (err) {
    progress?.finish();
    if (!(err instanceof ClientError)) throw err;
    const resume = following !== undefined ? ` The task ${following} goes on; query it later: GET ${options.baseUrl}/v1/images/tasks/${following}` : '';
    io.stderr.write(`${PREFIX}: ${err.message}${resume}\n`);
    return err.exitCode;
  }
}
