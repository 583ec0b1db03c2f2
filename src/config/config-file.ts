/**
 * The schema of CONFIG_FILE: upstream channels and the price table. The parts are owned by their
 * modules (src/routing/channel-config.ts, src/tasks/pricing.ts); this file only puts them together.
 */
import { z } from 'zod';

/** Strict schema of the JSON config file. */
export const configFileSchema = z.strictObject({
  /** Upstream channels (see src/routing/channel-config.ts). */
  channels: z.array(z.unknown()).optional(),
  /** Price table (see src/tasks/pricing.ts). */
  prices: z.unknown().optional(),
});

/** The validated config file. */
export type ConfigFile = z.infer<typeof configFileSchema>;
