import { createReferenceUrlCheck, nonPublicHostReason, normalizeAllowedHost, parseIPv6 } from '../../src/security/url-policy';
import { normalizePlatformRequest } from '../../src/intent/normalize';
import { DEFAULT_NORMALIZE_OPTIONS } from '../../src/intent/normalize';
import type { BridgeError } from '../../src/platform/errors';

const check = createReferenceUrlCheck();
const verdict = (url: string) => check(new URL(url));

describe('reference URL policy: public (default)', () => {
  it.each([
    ['http://127.0.0.1/a.png', 'the host 127.0.0.1 is a loopback address; reference images must be on a public host'],
    ['http://127.8.9.10/a.png', 'the host 127.8.9.10 is a loopback address; reference images must be on a public host'],
    ['http://[::1]/a.png', 'the host [::1] is a loopback address; reference images must be on a public host'],
    ['http://10.1.2.3/a.png', 'the host 10.1.2.3 is a private address; reference images must be on a public host'],
    ['http://172.16.0.1/a.png', 'the host 172.16.0.1 is a private address; reference images must be on a public host'],
    ['http://172.31.255.255/a.png', 'the host 172.31.255.255 is a private address; reference images must be on a public host'],
    ['http://192.168.1.1/a.png', 'the host 192.168.1.1 is a private address; reference images must be on a public host'],
    ['http://[fc00::1]/a.png', 'the host [fc00::1] is a private (unique local) address; reference images must be on a public host'],
    ['http://[fd12:3456::1]/a.png', 'the host [fd12:3456::1] is a private (unique local) address; reference images must be on a public host'],
    ['http://169.254.169.254/latest/meta-data', 'the host 169.254.169.254 is a link-local address (cloud metadata services live here); reference images must be on a public host'],
    ['http://[fe80::1]/a.png', 'the host [fe80::1] is a link-local address; reference images must be on a public host'],
    ['http://100.64.0.1/a.png', 'the host 100.64.0.1 is a carrier-grade NAT address; reference images must be on a public host'],
    ['http://100.127.255.254/a.png', 'the host 100.127.255.254 is a carrier-grade NAT address; reference images must be on a public host'],
    ['http://0.0.0.0/a.png', 'the host 0.0.0.0 is an unspecified ("this network") address; reference images must be on a public host'],
    ['http://[::]/a.png', 'the host [::] is the unspecified address; reference images must be on a public host'],
    ['http://224.0.0.1/a.png', 'the host 224.0.0.1 is a multicast address; reference images must be on a public host'],
    ['http://[ff02::1]/a.png', 'the host [ff02::1] is a multicast address; reference images must be on a public host'],
    ['http://255.255.255.255/a.png', 'the host 255.255.255.255 is the broadcast address; reference images must be on a public host'],
    ['http://[::ffff:127.0.0.1]/a.png', 'the host [::ffff:7f00:1] is an IPv4-mapped IPv6 form of a loopback address; reference images must be on a public host'],
    ['http://[::ffff:169.254.169.254]/a.png', 'the host [::ffff:a9fe:a9fe] is an IPv4-mapped IPv6 form of a link-local address (cloud metadata services live here); reference images must be on a public host'],
    ['http://[::ffff:10.0.0.1]/', 'the host [::ffff:a00:1] is an IPv4-mapped IPv6 form of a private address; reference images must be on a public host'],
    ['http://[::127.0.0.1]/', 'the host [::7f00:1] is an IPv4-compatible IPv6 address (deprecated); reference images must be on a public host'],
    ['http://[64:ff9b::10.0.0.1]/', 'the host [64:ff9b::a00:1] is a NAT64 form of a private address; reference images must be on a public host'],
    ['http://[2002:7f00:1::]/', 'the host [2002:7f00:1::] is a 6to4 form of a loopback address; reference images must be on a public host'],
    ['http://localhost/a.png', 'the host localhost is a single-label host name, which only resolves inside a private network; reference images must be on a public host'],
    ['http://LOCALHOST./a.png', 'the host localhost is a single-label host name, which only resolves inside a private network; reference images must be on a public host'],
    ['http://app.localhost/a.png', 'the host app.localhost is a private-network name (.localhost); reference images must be on a public host'],
    ['http://printer.local/a.png', 'the host printer.local is a private-network name (.local); reference images must be on a public host'],
    ['http://metadata.google.internal/computeMetadata/v1/', 'the host metadata.google.internal is a private-network name (.internal); reference images must be on a public host'],
    ['http://svc.cluster.internal:8080/a.png', 'the host svc.cluster.internal is a private-network name (.internal); reference images must be on a public host'],
    ['http://intranet/a.png', 'the host intranet is a single-label host name, which only resolves inside a private network; reference images must be on a public host'],
    ['http://metadata/a.png', 'the host metadata is a single-label host name, which only resolves inside a private network; reference images must be on a public host'],
  ])('refuses %s', (url, reason) => {
    expect(verdict(url)).toBe(reason);
  });

  // WHATWG URL turns every legacy IPv4 spelling into a dotted quad before the policy looks at it.
  it.each([
    ['decimal', 'http://2130706433/a.png', '127.0.0.1'],
    ['hex', 'http://0x7f000001/a.png', '127.0.0.1'],
    ['hex dotted', 'http://0x7f.0.0.1/a.png', '127.0.0.1'],
    ['octal', 'http://0177.0.0.1/a.png', '127.0.0.1'],
    ['short form', 'http://127.1/a.png', '127.0.0.1'],
    ['percent-encoded', 'http://%31%32%37.0.0.1/a.png', '127.0.0.1'],
    ['decimal metadata', 'http://2852039166/latest', '169.254.169.254'],
    ['octal private', 'http://012.0.0.1/', '10.0.0.1'],
    ['zero', 'http://0/', '0.0.0.0'],
    ['full IPv6 loopback', 'http://[0:0:0:0:0:0:0:1]/', '[::1]'],
  ])('refuses the %s form (%s -> %s)', (_form, url, host) => {
    expect(new URL(url).hostname).toBe(host);
    expect(verdict(url)).toMatch(new RegExp(`^the host ${host.replace(/[[\].]/g, '\\$&')} is `));
  });

  it.each([
    'https://example.com/a.png',
    'https://cdn.example.com:8443/path/a.png?x=1',
    'http://8.8.8.8/a.png',
    'http://172.15.255.255/a.png',
    'http://172.32.0.1/a.png',
    'http://100.63.255.255/a.png',
    'http://100.128.0.1/a.png',
    'http://[2606:4700:4700::1111]/a.png',
    'https://images.example.org./a.png',
    'https://xn--bcher-kva.example/a.png',
  ])('accepts the public URL %s', (url) => {
    expect(verdict(url)).toBeUndefined();
  });

  it('a numeric host that did not come through WHATWG normalization is refused, not guessed at', () => {
    expect(nonPublicHostReason('1.2.3.0x7f')).toBe('a numeric host that is not a plain IPv4 address');
    expect(nonPublicHostReason('example.123')).toBe('a numeric host that is not a plain IPv4 address');
  });

  it('parses IPv6 forms', () => {
    expect(parseIPv6('::')).toStrictEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(parseIPv6('::ffff:1.2.3.4')).toStrictEqual([0, 0, 0, 0, 0, 0xffff, 0x0102, 0x0304]);
    expect(parseIPv6('2001:db8::8:800:200c:417a')).toStrictEqual([0x2001, 0xdb8, 0, 0, 0x8, 0x800, 0x200c, 0x417a]);
    expect(parseIPv6('1:2:3:4:5:6:7:8')).toStrictEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(parseIPv6('1::2::3')).toBeUndefined();
    expect(parseIPv6('1:2:3')).toBeUndefined();
    expect(parseIPv6('12345::')).toBeUndefined();
    expect(nonPublicHostReason('[zz::1]')).toBe('an IPv6 address that cannot be read');
  });
});

describe('reference URL policy: allow-list and modes', () => {
  it('allow-listed hosts pass even when private-looking (exact and *. subdomains); others are judged as usual', () => {
    const c = createReferenceUrlCheck({ mode: 'public', allowHosts: ['assets.internal', '*.corp.example', '10.0.0.5'] });
    expect(c(new URL('http://assets.internal/a.png'))).toBeUndefined();
    expect(c(new URL('http://img.corp.example/a.png'))).toBeUndefined();
    expect(c(new URL('http://10.0.0.5:9000/a.png'))).toBeUndefined();
    expect(c(new URL('http://10.0.0.6/a.png'))).toBe('the host 10.0.0.6 is a private address; reference images must be on a public host');
    expect(c(new URL('http://other.internal/a.png'))).toBe('the host other.internal is a private-network name (.internal); reference images must be on a public host');
    // *.corp.example is subdomains only, and no suffix trickery.
    expect(c(new URL('http://evilcorp.example/a.png'))).toBeUndefined();
  });

  it('allowlist mode accepts only the listed hosts', () => {
    const c = createReferenceUrlCheck({ mode: 'allowlist', allowHosts: ['cdn.example.com', '*.images.example.org'] });
    expect(c(new URL('https://cdn.example.com/a.png'))).toBeUndefined();
    expect(c(new URL('https://eu.images.example.org/a.png'))).toBeUndefined();
    expect(c(new URL('https://images.example.org/a.png'))).toBe("the host images.example.org is not on this gateway's list of allowed reference hosts");
    expect(c(new URL('https://example.com/a.png'))).toBe("the host example.com is not on this gateway's list of allowed reference hosts");
    expect(c(new URL('https://cdn.example.com.evil.test/a.png'))).toBe("the host cdn.example.com.evil.test is not on this gateway's list of allowed reference hosts");
  });

  it('any mode accepts every http(s) host', () => {
    const c = createReferenceUrlCheck({ mode: 'any', allowHosts: [] });
    expect(c(new URL('http://127.0.0.1/a.png'))).toBeUndefined();
    expect(c(new URL('http://localhost/a.png'))).toBeUndefined();
  });

  it('normalizes allow-list entries and rejects nonsense', () => {
    expect(normalizeAllowedHost(' CDN.Example.com ')).toBe('cdn.example.com');
    expect(normalizeAllowedHost('*.Example.com')).toBe('*.example.com');
    expect(normalizeAllowedHost('[::1]')).toBe('[::1]');
    expect(normalizeAllowedHost('2130706433')).toBe('127.0.0.1');
    expect(() => normalizeAllowedHost('http://x/y')).toThrow('"http://x/y" is not a host name or IP address');
    expect(() => normalizeAllowedHost('a b')).toThrow('"a b" is not a host name or IP address');
  });
});

describe('the policy in the normalizer: the error names the parameter and says why', () => {
  const options = { ...DEFAULT_NORMALIZE_OPTIONS, checkUrl: createReferenceUrlCheck() };
  function rejection(body: unknown): BridgeError {
    try {
      normalizePlatformRequest({ body }, options);
    } catch (err) {
      return err as BridgeError;
    }
    throw new Error('expected a rejection');
  }

  it('image', () => {
    const err = rejection({ model: 'NanoBanana', prompt: 'p', image: 'http://169.254.169.254/latest/meta-data/' });
    expect({ code: err.code, param: err.param, message: err.message, status: err.httpStatus }).toStrictEqual({
      code: 'invalid_parameter',
      param: 'image',
      message: 'image is not allowed: the host 169.254.169.254 is a link-local address (cloud metadata services live here); reference images must be on a public host.',
      status: 400,
    });
  });

  it('images[i]', () => {
    const err = rejection({ model: 'NanoBanana', prompt: 'p', images: ['https://example.com/a.png', 'http://[::ffff:192.168.0.1]/b.png'] });
    expect({ code: err.code, param: err.param, message: err.message }).toStrictEqual({
      code: 'invalid_parameter',
      param: 'images[1]',
      message: 'images[1] is not allowed: the host [::ffff:c0a8:1] is an IPv4-mapped IPv6 form of a private address; reference images must be on a public host.',
    });
  });

  it('data URIs are not URLs to fetch: the host policy does not apply', () => {
    const intent = normalizePlatformRequest({ body: { model: 'NanoBanana', prompt: 'p', image: 'data:image/png;base64,iVBORw0KGgo=' } }, options);
    expect(intent.references).toHaveLength(1);
  });
});
