/**
 * A real S3-compatible server for tests: the `s3rver` package's command, run as its own process on a loopback
 * ephemeral port with a fresh data directory and one bucket. s3rver accepts the fixed credentials below.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A running s3rver process. */
export interface S3rverProcess {
  /** `http://127.0.0.1:<port>`. */
  readonly endpoint: string;
  /** The bucket it was started with. */
  readonly bucket: string;
  /** s3rver's fixed credentials. */
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** Stops the process and removes its data directory. */
  stop(): Promise<void>;
}

const BIN = join(__dirname, '..', '..', 'node_modules', 's3rver', 'bin', 's3rver.js');

/** Starts s3rver and resolves once it listens (rejects after 15 s or when it exits first). */
export async function startS3rver(bucket = 'itb-test'): Promise<S3rverProcess> {
  const directory = await mkdtemp(join(tmpdir(), 'itb-s3rver-'));
  const child: ChildProcess = spawn(process.execPath, [BIN, '-d', directory, '-a', '127.0.0.1', '-p', '0', '--silent', '--configure-bucket', bucket], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`s3rver did not start within 15 s: ${output.slice(0, 500)}`)), 15_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString('utf8');
      const match = /listening on 127\.0\.0\.1:(\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`s3rver exited with ${code}: ${output.slice(0, 500)}`));
    });
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
      await rm(directory, { recursive: true, force: true });
    },
  };
}
