/**
 * URL text helpers shared by the reference and result URL checks and by log/warning text (a bottom-layer
 * utility: no imports).
 *
 * Parsers disagree on backslashes, control characters and whitespace: WHATWG URL (ours) reads `\` as `/` in
 * http(s) URLs and silently drops tabs and newlines, while curl, Python and many fetchers do not. So
 * `http://example.com\@127.0.0.1:6379/x.png` is example.com to our check and 127.0.0.1 to the upstream's
 * fetcher. Such URLs are refused rather than normalized (docs/reliability.md, "hostile clients").
 */

/** What makes a URL text ambiguous between parsers, or undefined when it has none of it. */
export function urlTextProblem(text: string): string | undefined {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5c) return 'a backslash';
    if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x0c || c === 0xa0 || c === 0x2028 || c === 0x2029 || c === 0xfeff) return 'whitespace';
    if (c < 0x20 || c === 0x7f || (c >= 0x80 && c < 0xa0)) return 'a control character';
  }
  return undefined;
}

/**
 * The URL with its query string and fragment replaced by `?[redacted]`: presigned URLs carry their
 * credentials there (`X-Amz-Signature`, `X-Amz-Credential`, `sig=`, `token=`). For logs and warnings.
 */
export function redactUrlQuery(url: string): string {
  const at = url.search(/[?#]/);
  return at === -1 ? url : `${url.slice(0, at)}?[redacted]`;
}
