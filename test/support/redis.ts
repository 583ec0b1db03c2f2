/**
 * Redis for tests: REDIS_URL (default redis://127.0.0.1:6379). When Redis does not answer, CI=true fails
 * loudly; elsewhere the Redis suites are skipped with one console line.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

/** The Redis URL tests use. */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

let probed: boolean | undefined;

/** Synchronous PING (describe blocks cannot await), cached per test file. */
function redisAnswers(): boolean {
  if (probed !== undefined) return probed;
  const script = `
    const u = new URL(process.argv[1]);
    const s = require('net').connect(Number(u.port || 6379), u.hostname);
    const t = setTimeout(() => process.exit(1), 1500);
    s.on('connect', () => s.write('PING\\r\\n'));
    s.on('data', (d) => { clearTimeout(t); const ok = String(d).startsWith('+PONG') || String(d).startsWith('-NOAUTH'); process.exit(ok ? 0 : 1); });
    s.on('error', () => process.exit(1));`;
  try {
    execFileSync(process.execPath, ['-e', script, REDIS_URL], { stdio: 'ignore', timeout: 3000 });
    probed = true;
  } catch {
    probed = false;
  }
  return probed;
}

/**
 * `describe` when Redis answers; otherwise `describe.skip` after one console line, or an error when CI=true
 * (a CI run must never pass by skipping its Redis tests).
 */
export function redisOrSkip(): jest.Describe {
  if (redisAnswers()) return describe;
  if (process.env.CI === 'true') throw new Error(`Redis does not answer at ${REDIS_URL}; CI=true, so the Redis tests fail instead of being skipped.`);
  console.log(`Redis does not answer at ${REDIS_URL}: Redis tests are skipped (start one, or set REDIS_URL).`);
  return describe.skip;
}

/** A key prefix unique to this test run, so parallel runs and leftovers never collide. */
export function uniquePrefix(label: string): string {
  return `itb-test:${label}:${process.pid}-${randomBytes(4).toString('hex')}:`;
}

/**
 * A new client for tests (close it with `quit()`). It connects on its first command: suites create clients
 * in their describe body, and when `jest -t` filters out every test of a file its afterAll (the `quit()`)
 * never runs, so an eager connection would keep jest from exiting.
 */
export function newRedis(): Redis {
  return new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
}

/** Deletes every key under `prefix`. */
export async function deleteKeys(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
}
