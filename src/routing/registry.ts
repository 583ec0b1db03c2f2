/**
 * The adapter registry: receives every registered adapter through `@injectAll(ADAPTERS)`,
 * rejects duplicate ids, and answers which adapters can serve an intent.
 */
import { injectAll, injectable } from 'tsyringe';
import { ADAPTERS } from '../di/tokens';
import { ConfigError } from '../platform/errors';
import type { ImageIntent } from '../intent/intent';
import { notServedError, refusal, type Refusal } from '../adapter-kit/capabilities';
import type { ImageAdapter } from '../adapter-kit/contract';

@injectable()
export class AdapterRegistry {
  private readonly byId = new Map<string, ImageAdapter>();

  constructor(@injectAll(ADAPTERS) adapters: ImageAdapter[]) {
    for (const adapter of adapters) {
      if (this.byId.has(adapter.id)) throw new ConfigError(`Two adapters are registered with the id "${adapter.id}".`);
      this.byId.set(adapter.id, adapter);
    }
  }

  /** All adapters, in registration order. */
  all(): ImageAdapter[] {
    return [...this.byId.values()];
  }

  /** The adapter with this id; throws a ConfigError when none is registered. */
  get(id: string): ImageAdapter {
    const adapter = this.byId.get(id);
    if (!adapter) throw new ConfigError(`No adapter is registered with the id "${id}" (registered: ${[...this.byId.keys()].join(', ')}).`);
    return adapter;
  }

  /** True when some adapter with this id is registered. */
  has(id: string): boolean {
    return this.byId.has(id);
  }

  /**
   * The first adapter (of `candidates`, default all) that serves the intent; otherwise a model_unavailable
   * error naming the model, or the parameter and its limit when only a parameter is out of reach here.
   */
  pick(intent: ImageIntent, candidates: readonly ImageAdapter[] = this.all()): ImageAdapter {
    let first: Refusal | undefined;
    for (const adapter of candidates) {
      const why = refusal(adapter.capabilities, intent);
      if (why === undefined) return adapter;
      first ??= why;
    }
    throw notServedError(intent, first, 'no upstream is configured');
  }
}
