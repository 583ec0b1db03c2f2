/** The result-URL policy as a function (src/security/result-url-policy.ts); the HTTP behaviour is in hostile-upstream.test.ts. */
import { createResultUrlCheck } from '../../src/security/result-url-policy';

describe('createResultUrlCheck', () => {
  const http = createResultUrlCheck();
  it.each([
    ['https://cdn.example.com/a.png', undefined],
    ['http://cdn.example.com/a.png?sig=1', undefined],
    ['/v1/images/blobs/abc', undefined],
    ['/bridge/v1/images/blobs/abc?exp=1&sig=2', undefined],
    ['//evil.example/a.png', 'it is not a valid URL'],
    ['/\\evil.example/a.png', 'it contains a backslash'],
    ['javascript:alert(1)', 'its scheme javascript: is not http or https'],
    ['JaVaScRiPt:alert(1)', 'its scheme javascript: is not http or https'],
    ['file:///etc/passwd', 'its scheme file: is not http or https'],
    ['data:text/html;base64,PGI+', 'its scheme data: is not http or https'],
    ['https://user:pass@cdn.example.com/a.png', 'it carries credentials'],
    ['https://cdn.example.com/a\tb.png', 'it contains whitespace'],
    ['', 'it is empty'],
    [`https://cdn.example.com/${'a'.repeat(9000)}`, 'it is longer than 8192 characters'],
  ])('http mode: %s -> %s', (url, reason) => {
    expect(http(url)).toBe(reason);
  });

  it('https, public and allowlist modes', () => {
    expect(createResultUrlCheck({ mode: 'https', allowHosts: [] })('http://cdn.example.com/a.png')).toBe('it is not https (RESULT_URL_POLICY=https)');
    const pub = createResultUrlCheck({ mode: 'public', allowHosts: ['blobs.internal'] });
    expect(pub('http://169.254.169.254/latest/meta-data/')).toMatch(/^its host 169\.254\.169\.254 is a link-local address/);
    expect(pub('http://[::ffff:127.0.0.1]/x.png')).toMatch(/^its host \[::ffff:7f00:1\] is an IPv4-mapped IPv6 form of a loopback address/);
    expect(pub('https://blobs.internal/x.png')).toBeUndefined();
    const list = createResultUrlCheck({ mode: 'allowlist', allowHosts: ['*.cdn.example.com'] });
    expect(list('https://eu.cdn.example.com/a.png')).toBeUndefined();
    expect(list('https://cdn.example.com.evil.example/a.png')).toBe('its host cdn.example.com.evil.example is not in RESULT_URL_ALLOW_HOSTS');
  });
});
