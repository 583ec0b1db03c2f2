/** A deterministic Random: bytes from a counter, floats from a given cycle. */
import type { Random } from '../../src/core/ports';

export class SeqRandom implements Random {
  private counter = 0;
  private floatIndex = 0;

  /** `floats` are returned in turn (cycling); default always 0.5. */
  constructor(private readonly floats: readonly number[] = [0.5], private readonly seed = 1) {}

  bytes(n: number): Buffer {
    const out = Buffer.alloc(n);
    this.counter += 1;
    // Distinct per call and per seed; not random, but every call differs, which is all tests need.
    for (let i = 0; i < n; i += 1) out[i] = (this.seed * 131 + this.counter * 31 + i * 7) & 0xff;
    out.writeUInt32BE(this.counter >>> 0, 0);
    if (n >= 8) out.writeUInt32BE(this.seed >>> 0, 4);
    return out;
  }

  float(): number {
    const value = this.floats[this.floatIndex % this.floats.length] ?? 0.5;
    this.floatIndex += 1;
    return value;
  }
}
