// No test reaches the internet: only loopback connections are allowed; everything else must be nock'ed.
import nock from 'nock';

nock.disableNetConnect();
nock.enableNetConnect((host) => /^(127\.0\.0\.1|localhost|\[::1\]|::1)(:\d+)?$/.test(host));

// Each test file gets a fresh nock, but node's http module is shared by every file a jest worker runs: a
// patch left in place by an earlier file breaks interception in the next one (requests go out for real).
afterAll(() => {
  nock.restore();
});
