/**
 * The composition root: the only place that registers anything. Each call builds a child of the root
 * container, so every app instance and every test gets its own graph.
 */
import 'reflect-metadata';
import { container as rootContainer, type DependencyContainer } from 'tsyringe';
import { ADAPTER_CLASSES } from '../../adapters';
import { AdapterRegistry } from '../adapter/registry';
import { ADAPTERS } from './tokens';

/** Builds a container with every adapter registered under ADAPTERS and the registry. */
export function createTranslationContainer(parent: DependencyContainer = rootContainer): DependencyContainer {
  const c = parent.createChildContainer();
  for (const cls of ADAPTER_CLASSES) c.register(ADAPTERS, { useClass: cls });
  c.register(AdapterRegistry, { useClass: AdapterRegistry });
  return c;
}
