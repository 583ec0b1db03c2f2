/**
 * Cryptographically strong random bytes from a pool: one randomFillSync of 4 KiB serves 256 task ids,
 * instead of one crypto call (and its syscall) per id. Bytes are copied out and never handed out twice.
 */
import { randomFillSync } from 'node:crypto';

const POOL_SIZE = 4096;
const pool = Buffer.allocUnsafe(POOL_SIZE);
let offset = POOL_SIZE;

/** n CSPRNG bytes (n <= 4096), in a new Buffer. */
export function pooledRandomBytes(n: number): Buffer {
  if (n > POOL_SIZE) return randomFillSync(Buffer.allocUnsafe(n));
  if (offset + n > POOL_SIZE) {
    randomFillSync(pool);
    offset = 0;
  }
  const out = Buffer.from(pool.subarray(offset, offset + n));
  offset += n;
  return out;
}

/** A float in [0, 1) from 48 pooled CSPRNG bits. */
export function pooledRandomFloat(): number {
  return pooledRandomBytes(6).readUIntBE(0, 6) / 2 ** 48;
}
