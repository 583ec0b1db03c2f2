import fc from 'fast-check';
import { redactSecrets } from '../../src/upstream/redact';

describe('redactSecrets', () => {
  const cases: Array<[string, string, string[]]> = [
    ['invalid key sk-abcdefghijklmnop12345 given', 'invalid key [redacted] given', []],
    ['Authorization: Bearer abcdef123456', 'Authorization: Bearer [redacted]', []],
    ['"authorization":"Key 1234abcd:ffff0000"', '"authorization":"Key [redacted]"', []],
    ['{"api_key":"zzzzzz","x":1}', '{"api_key":"[redacted]","x":1}', []],
    ['GET https://u:p@hub.test/x?token=abcd&b=1', 'GET https://[redacted]@hub.test/x?[redacted]', []],
    ['x-api-key: abc123 and client_secret=s3cr3t', 'x-api-key: [redacted] and client_secret=[redacted]', []],
    ['your api key 0123456789abcdef0123 is not valid', 'your api key [redacted] is not valid', []],
    ['jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTYifQ.sig-part_x here', 'jwt [redacted] here', []],
    ['echo MYOWNSECRET and %2Fsl%2Fash', 'echo [redacted] and [redacted]', ['MYOWNSECRET', '/sl/ash']],
    ['stripe sk_live_abcdefghijkl', 'stripe [redacted]', []],
  ];
  it.each(cases)('%s', (input, expected, secrets) => {
    expect(redactSecrets(input, secrets)).toBe(expected);
  });

  it('leaves ordinary upstream error text alone', () => {
    const texts = [
      'prompt is too long: 5000 characters, at most 4000',
      'num_images must be between 1 and 4',
      'monkey: banana; design: minimal; author: Ann',
      'aspect_ratio "5:3" is not one of 21:9, 16:9',
      'Task t-123 not found',
    ];
    for (const t of texts) expect(redactSecrets(t, ['k1'])).toBe(t);
  });

  // These shapes made earlier versions of the patterns backtrack quadratically (64 KiB took ~30 s).
  it.each([
    ['a-b.', 'a-b.'.repeat(16 * 1024), 'a-b.'.repeat(16 * 1024)],
    ['sk-', 'sk-'.repeat(20_000), '[redacted]'],
    ['a.', 'a.'.repeat(32_000), 'a.'.repeat(32_000)],
    ['x://a', 'x://a'.repeat(13_000), 'x://a'.repeat(13_000)],
  ])('handles adversarial text (%s repeated)', (_name, text, expected) => {
    expect(redactSecrets(text, ['sk-0123456789'])).toBe(expected);
  });

  it('ignores secrets shorter than 4 characters and undefined ones', () => {
    expect(redactSecrets('a b c', ['a', undefined])).toBe('a b c');
  });

  it('never leaves a known secret in any text that embeds it (property)', () => {
    fc.assert(
      fc.property(fc.string(), fc.string({ minLength: 8, maxLength: 40 }).filter((s) => s.trim().length >= 8), fc.string(), (before, secret, after) => {
        const out = redactSecrets(`${before}${secret}${after}`, [secret]);
        return !out.includes(secret);
      }),
    );
  });
});
