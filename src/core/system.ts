/**
 * The default implementations of the cross-cutting ports: the one system clock, the one CSPRNG-backed
 * Random, and a logger that writes nothing (for parts used without a composition root).
 */
import type { Clock, Logger, Random } from './ports';
import { pooledRandomBytes, pooledRandomFloat } from '../util/pooled-random';

/** The Clock port on the system clock. */
export const systemClock: Clock = { now: () => Date.now() };

/** The Random port on node:crypto. */
export const cryptoRandom: Random = {
  bytes: pooledRandomBytes,
  // 48 random bits give a float in [0, 1) with Math.random's granularity, from a CSPRNG.
  float: pooledRandomFloat,
};

/** A Logger that writes nothing. */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silentLogger };
