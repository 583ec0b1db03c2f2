/**
 * Every folder under adapters/ is a registered adapter whose id is the folder name, and no two adapters
 * share an id. A new adapter folder without its line in adapters/index.ts fails here.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { DependencyContainer } from 'tsyringe';
import { ADAPTER_CLASSES } from '../../src/di/adapter-classes';
import { AdapterRegistry } from '../../src/routing/registry';
import { createTranslationContainer } from '../../src/di/container';
import { ADAPTERS } from '../../src/di/tokens';

const ADAPTERS_DIR = join(__dirname, '../../adapters');

let container: DependencyContainer;

beforeEach(() => {
  container = createTranslationContainer();
});

afterEach(async () => {
  await container.dispose();
});

function folders(): string[] {
  return readdirSync(ADAPTERS_DIR, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
}

describe('adapter registration (adapters/index.ts)', () => {
  it('registers exactly one adapter per folder under adapters/, with the folder name as its id', () => {
    const ids = container.resolveAll(ADAPTERS).map((a) => a.id);
    const missing = folders().filter((f) => !ids.includes(f));
    const withoutFolder = ids.filter((id) => !folders().includes(id));
    expect({ missing, withoutFolder }).toStrictEqual({ missing: [], withoutFolder: [] });
    expect([...ids].sort()).toStrictEqual(folders());
  });

  it('no two adapters share an id', () => {
    const ids = container.resolveAll(ADAPTERS).map((a) => a.id);
    const duplicates = ids.filter((id, i) => ids.indexOf(id) !== i);
    expect(duplicates).toStrictEqual([]);
    expect(ids).toHaveLength(ADAPTER_CLASSES.length);
  });

  it('the registry builds from the registered adapters (it rejects duplicate ids itself)', () => {
    const registry = container.resolve(AdapterRegistry);
    expect(registry.all().map((a) => a.id)).toStrictEqual(container.resolveAll(ADAPTERS).map((a) => a.id));
    const hub = registry.all()[0];
    if (!hub) throw new Error('no adapter registered');
    expect(() => new AdapterRegistry([hub, hub])).toThrow(expect.objectContaining({ code: 'internal_error' }));
  });

  it('the hub stays first, so a request with no configured channel order is served by the hub', () => {
    expect(container.resolve(AdapterRegistry).all()[0]?.id).toBe('hub');
  });
});
