/**
 * The hub adapter through the shared conformance suite (options: test/support/hub-conformance.ts).
 */
import { HubAdapter } from '../../adapters/hub/hub-adapter';
import { runAdapterConformance } from '../../src/testing/adapter-conformance';
import { hubConformanceOptions } from '../support/hub-conformance';

runAdapterConformance(hubConformanceOptions());

describe('hub adapter specifics', () => {
  it('authenticates with a bearer token', () => {
    expect(new HubAdapter().authHeaders('hub-key')).toStrictEqual({ Authorization: 'Bearer hub-key' });
  });
});
