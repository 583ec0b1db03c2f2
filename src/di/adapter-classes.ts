/**
 * The adapter classes exported by adapters/index.ts, in export order. Only the composition root (and
 * the registration test) read this; adding an adapter is one export line in adapters/index.ts.
 */
import type { constructor } from 'tsyringe/dist/typings/types';
import * as registered from '../../adapters';
import type { ImageAdapter } from '../adapter-kit/contract';

/** Adapter classes, registered in this order under the ADAPTERS token. */
export const ADAPTER_CLASSES: ReadonlyArray<constructor<ImageAdapter>> = (Object.values(registered) as unknown[]).filter(
  (value): value is constructor<ImageAdapter> => typeof value === 'function',
);

/** The built-in adapter classes by name, for out-of-tree use (re-exported by the library entry). */
export { HubAdapter, FalAdapter, ExampleAdapter, ReplicateAdapter, OpenAIAdapter } from '../../adapters';
