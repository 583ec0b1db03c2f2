// node's http and https modules are shared by every test file a jest worker runs, but each file loads its
// own nock. A file whose tests are all filtered out (jest -t) never runs its afterAll, so its nock patch
// stays on http.request and intercepts (and refuses) the next file's requests. The first file in a worker
// records the unpatched functions on the modules themselves; every later file puts them back before its
// nock loads.
import http from 'node:http';
import https from 'node:https';

type Patchable = Record<'request' | 'get', unknown> & { __pristine?: { request: unknown; get: unknown } };

for (const mod of [http, https] as unknown as Patchable[]) {
  if (mod.__pristine) {
    mod.request = mod.__pristine.request;
    mod.get = mod.__pristine.get;
  } else {
    Object.defineProperty(mod, '__pristine', { value: { request: mod.request, get: mod.get }, enumerable: false });
  }
}
