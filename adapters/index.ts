/**
 * Every upstream adapter the bridge knows. Adding an adapter is one line here (see README "Adding an adapter").
 */
import type { constructor } from 'tsyringe/dist/typings/types';
import type { ImageAdapter } from '../src/adapter/contract';
import { HubAdapter } from './hub/hub-adapter';
import { FalAdapter } from './fal/fal-adapter';
import { ExampleAdapter } from './example/example-adapter';

/** Adapter classes, registered in this order under the ADAPTERS token by the composition root. */
export const ADAPTER_CLASSES: ReadonlyArray<constructor<ImageAdapter>> = [
  HubAdapter,
  FalAdapter,
  ExampleAdapter,
];
