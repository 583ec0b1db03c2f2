/**
 * The router reports every channel's circuit state to the Metrics port, and PromMetrics renders it as
 * bridge_upstream_circuit_state{channel,state}: 1 for the current state, 0 for the others.
 */
import { PromMetrics } from '../../src/http/metrics';
import type { Channel } from '../../src/routing/channels';
import { AdapterRegistry } from '../../src/routing/registry';
import { WeightedChannelRouter } from '../../src/routing/router';
import { HubAdapter } from '../../adapters/hub/hub-adapter';
import { CapturingLogger } from '../support/capturing-logger';
import { FakeClock } from '../support/fake-clock';
import { SeqRandom } from '../support/seq-random';

const channel = (id: string): Channel => ({ id, adapterId: 'hub', baseUrl: `https://${id}.test`, apiKey: `key-${id}`, priority: 0, weight: 1 });

async function states(metrics: PromMetrics): Promise<Record<string, string>> {
  const { body } = await metrics.render();
  const current: Record<string, string> = {};
  for (const m of body.matchAll(/^bridge_upstream_circuit_state\{channel="([^"]+)",state="([^"]+)"\} 1$/gm)) current[m[1] as string] = m[2] as string;
  return current;
}

test('closed, open after 2 failures in a row, half_open after the cool-down, closed again on a success', async () => {
  const clock = new FakeClock();
  const metrics = new PromMetrics();
  const router = new WeightedChannelRouter([channel('a'), channel('b')], new AdapterRegistry([new HubAdapter()]), new SeqRandom([0.5]), clock, new CapturingLogger(), { failureThreshold: 2, coolDownMs: 1000 }, metrics);
  expect(await states(metrics)).toStrictEqual({ a: 'closed', b: 'closed' });
  router.reportFailure('a');
  expect(await states(metrics)).toStrictEqual({ a: 'closed', b: 'closed' });
  router.reportFailure('a');
  expect(await states(metrics)).toStrictEqual({ a: 'open', b: 'closed' });
  clock.advance(1000);
  expect(await states(metrics)).toStrictEqual({ a: 'half_open', b: 'closed' });
  router.reportSuccess('a');
  expect(await states(metrics)).toStrictEqual({ a: 'closed', b: 'closed' });
});

test('with no router reporting, the gauge has no series', async () => {
  expect((await new PromMetrics().render()).body).not.toMatch(/^bridge_upstream_circuit_state\{/m);
});
