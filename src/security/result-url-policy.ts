/**
 * The result-URL policy: which image URLs an upstream may hand to our clients. An upstream (or whoever
 * controls its answers) could put `javascript:`, `file:`, `data:text/html` or a cloud-metadata URL into a
 * result; clients render and fetch those. Only http(s) URLs ever pass; the operator may demand more
 * (RESULT_URL_POLICY, RESULT_URL_ALLOW_HOSTS; docs/reliability.md, "hostile upstreams").
 */
import { urlTextProblem } from '../util/url-text';
import { nonPublicHostReason, normalizeAllowedHost } from './url-policy';

/** How result URLs are judged. */
export type ResultUrlMode = 'http' | 'https' | 'public' | 'allowlist';

/** The modes accepted by RESULT_URL_POLICY. */
export const RESULT_URL_MODES: readonly ResultUrlMode[] = ['http', 'https', 'public', 'allowlist'];

/** Configuration of the result-URL policy. */
export interface ResultUrlPolicyOptions {
  /**
   * http: http and https URLs (default); https: https only; public: http(s) on public hosts only (no
   * loopback, private, link-local or metadata addresses); allowlist: only `allowHosts`.
   */
  readonly mode: ResultUrlMode;
  /** Hosts accepted in allowlist mode (exact, or `*.example.com`); in public mode, accepted although not public. */
  readonly allowHosts: readonly string[];
}

/** The default: any http(s) URL. */
export const DEFAULT_RESULT_URL_POLICY: ResultUrlPolicyOptions = { mode: 'http', allowHosts: [] };

/** Longest result URL passed on (presigned URLs run to a few thousand characters). */
export const MAX_RESULT_URL_LENGTH = 8192;

/** Judges one result URL: why it is refused, or undefined to pass it on. */
export type ResultUrlCheck = (text: string) => string | undefined;

function allowed(host: string, allowHosts: readonly string[]): boolean {
  return allowHosts.some((entry) => (entry.startsWith('*.') ? host.endsWith(entry.slice(1)) : host === entry));
}

/** Builds the check for the configured policy. */
export function createResultUrlCheck(options: ResultUrlPolicyOptions = DEFAULT_RESULT_URL_POLICY): ResultUrlCheck {
  const allowHosts = options.allowHosts.map(normalizeAllowedHost);
  return (text: string): string | undefined => {
    if (typeof text !== 'string' || text.length === 0) return 'it is empty';
    if (text.length > MAX_RESULT_URL_LENGTH) return `it is longer than ${MAX_RESULT_URL_LENGTH} characters`;
    // Parsers disagree on these (a backslash is a slash to WHATWG, not to others): refuse, never guess.
    const ambiguous = urlTextProblem(text);
    if (ambiguous) return `it contains ${ambiguous}`;
    // A path on this bridge (a blob URL minted without PUBLIC_BASE_URL): same origin as the API, no scheme to abuse.
    if (/^\/(?![/\\])/.test(text)) return undefined;
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      return 'it is not a valid URL';
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return `its scheme ${url.protocol} is not http or https`;
    if (url.username || url.password) return 'it carries credentials';
    const host = url.hostname.toLowerCase().replace(/\.$/, '');
    switch (options.mode) {
      case 'http':
        return undefined;
      case 'https':
        return url.protocol === 'https:' ? undefined : 'it is not https (RESULT_URL_POLICY=https)';
      case 'public': {
        if (allowed(host, allowHosts)) return undefined;
        const reason = nonPublicHostReason(host);
        return reason ? `its host ${host} is ${reason} (RESULT_URL_POLICY=public)` : undefined;
      }
      case 'allowlist':
        return allowed(host, allowHosts) ? undefined : `its host ${host} is not in RESULT_URL_ALLOW_HOSTS`;
      default:
        return 'the result URL policy is misconfigured';
    }
  };
}

/** The default check: http(s) URLs only. */
export const defaultResultUrlCheck: ResultUrlCheck = createResultUrlCheck();
