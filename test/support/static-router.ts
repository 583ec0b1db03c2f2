/** A ChannelRouter for tests: channels in the given order, failures and successes recorded. */
import type { Channel, ChannelRouter } from '../../src/routing/channels';
import type { ImageIntent } from '../../src/intent/intent';
import { ModelUnavailableError } from '../../src/platform/errors';

export class StaticRouter implements ChannelRouter {
  readonly failures: string[] = [];
  readonly successes: string[] = [];

  constructor(private readonly channels: readonly Channel[]) {}

  candidates(intent: ImageIntent): Channel[] {
    const list = this.channels.filter((c) => c.models === undefined || c.models.includes(intent.platformModel));
    if (list.length === 0) throw new ModelUnavailableError(`${intent.platformModel} is not served by any configured channel.`);
    return [...list];
  }
  byId(id: string): Channel | undefined {
    return this.channels.find((c) => c.id === id);
  }
  reportSuccess(channelId: string): void {
    this.successes.push(channelId);
  }
  reportFailure(channelId: string): void {
    this.failures.push(channelId);
  }
}
