/**
 * The reference-URL policy: which hosts a client may point the upstream's image fetcher at. The upstream
 * fetches reference URLs itself, so a URL naming a loopback, private, link-local or metadata address is a
 * server-side request forgery attempt against the upstream's (or our) network. Plugs into
 * NormalizeOptions.checkUrl.
 *
 * Only the URL text is judged: no DNS lookup is made. A public name that resolves to a private address (or
 * re-resolves after the check: DNS rebinding) is the upstream fetcher's to refuse; it is out of scope here.
 * WHATWG URL parsing has already turned decimal, octal, hex and percent-encoded IPv4 forms into dotted quads.
 */

/** How reference URLs are judged. */
export type ReferenceUrlMode = 'public' | 'any' | 'allowlist';

/** The modes accepted by REFERENCE_URL_POLICY. */
export const REFERENCE_URL_MODES: readonly ReferenceUrlMode[] = ['public', 'any', 'allowlist'];

/** Configuration of the reference-URL policy. */
export interface ReferenceUrlPolicyOptions {
  /** public: refuse non-public hosts (default); any: accept every http(s) host; allowlist: only `allowHosts`. */
  readonly mode: ReferenceUrlMode;
  /** Hosts always accepted (exact, or `*.example.com` for subdomains); in allowlist mode, the only ones. */
  readonly allowHosts: readonly string[];
}

/** The default policy: public hosts only, no exceptions. */
export const DEFAULT_REFERENCE_URL_POLICY: ReferenceUrlPolicyOptions = { mode: 'public', allowHosts: [] };

/** A URL check for NormalizeOptions.checkUrl: returns why the URL is refused, or undefined to accept it. */
export type UrlCheck = (url: URL) => string | undefined;

interface V4Range {
  readonly base: number;
  readonly bits: number;
  readonly what: string;
}

function v4(text: string, bits: number, what: string): V4Range {
  return { base: ipv4ToInt(text) as number, bits, what };
}

/** IPv4 ranges that are not public unicast (IANA special-purpose registry). */
const V4_BLOCKED: readonly V4Range[] = [
  v4('0.0.0.0', 8, 'an unspecified ("this network") address'),
  v4('10.0.0.0', 8, 'a private address'),
  v4('100.64.0.0', 10, 'a carrier-grade NAT address'),
  v4('127.0.0.0', 8, 'a loopback address'),
  v4('169.254.0.0', 16, 'a link-local address (cloud metadata services live here)'),
  v4('172.16.0.0', 12, 'a private address'),
  v4('192.0.0.0', 24, 'an IETF protocol address'),
  v4('192.0.2.0', 24, 'a documentation address'),
  v4('192.88.99.0', 24, 'a 6to4 relay address'),
  v4('192.168.0.0', 16, 'a private address'),
  v4('198.18.0.0', 15, 'a benchmarking address'),
  v4('198.51.100.0', 24, 'a documentation address'),
  v4('203.0.113.0', 24, 'a documentation address'),
  v4('224.0.0.0', 4, 'a multicast address'),
  v4('255.255.255.255', 32, 'the broadcast address'),
  v4('240.0.0.0', 4, 'a reserved address'),
];

/** Host names that only resolve inside a private network or on the machine itself. */
const PRIVATE_SUFFIXES = ['localhost', 'local', 'internal', 'localdomain', 'lan', 'intranet', 'corp', 'home', 'home.arpa', 'arpa'];

function ipv4ToInt(text: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return (((parts[0] as number) << 24) | ((parts[1] as number) << 16) | ((parts[2] as number) << 8) | (parts[3] as number)) >>> 0;
}

function v4Reason(address: number): string | undefined {
  for (const range of V4_BLOCKED) {
    const mask = range.bits === 0 ? 0 : (0xffffffff << (32 - range.bits)) >>> 0;
    if ((address & mask) >>> 0 === (range.base & mask) >>> 0) return range.what;
  }
  return undefined;
}

/** The 8 groups of an IPv6 address (brackets already removed), or undefined when it is not one. */
export function parseIPv6(text: string): number[] | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(text)) return undefined;
  let head = text;
  const tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  const last = text.slice(lastColon + 1);
  if (last.includes('.')) {
    const n = ipv4ToInt(last);
    if (n === undefined) return undefined;
    tail.push(n >>> 16, n & 0xffff);
    head = text.slice(0, lastColon + 1);
    // Keep a trailing "::" (zeros before the IPv4 part); drop a single separating colon.
    if (!head.endsWith('::')) head = head.slice(0, -1);
  }
  const halves = head.split('::');
  if (halves.length > 2) return undefined;
  const groups = (s: string): number[] | undefined => {
    if (s === '') return [];
    const out: number[] = [];
    for (const g of s.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const left = groups(halves[0] as string);
  const right = halves.length === 2 ? groups(halves[1] as string) : [];
  if (!left || !right) return undefined;
  const known = left.length + right.length + tail.length;
  if (halves.length === 2) {
    if (known > 7) return undefined;
    return [...left, ...new Array<number>(8 - known).fill(0), ...right, ...tail];
  }
  if (known !== 8) return undefined;
  return [...left, ...tail];
}

function v6Reason(g: readonly number[]): string | undefined {
  const [g0, g1, g2, g3, g4, g5, g6, g7] = g as [number, number, number, number, number, number, number, number];
  const embedded = ((g6 << 16) | g7) >>> 0;
  const zeroPrefix = g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0;
  if (zeroPrefix && g5 === 0 && g6 === 0 && g7 === 0) return 'the unspecified address';
  if (zeroPrefix && g5 === 0 && g6 === 0 && g7 === 1) return 'a loopback address';
  if (zeroPrefix && g5 === 0xffff) {
    const inner = v4Reason(embedded);
    return inner ? `an IPv4-mapped IPv6 form of ${inner}` : undefined;
  }
  // ::a.b.c.d (IPv4-compatible, deprecated) and ::ffff:0:a.b.c.d (SIIT): nothing public is addressed this way.
  if (zeroPrefix && g5 === 0) return 'an IPv4-compatible IPv6 address (deprecated)';
  if (g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0xffff && g5 === 0) return 'an IPv4-translated IPv6 address';
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) {
    const inner = v4Reason(embedded);
    return inner ? `a NAT64 form of ${inner}` : undefined;
  }
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 1) return 'a local-use NAT64 address';
  if (g0 === 0x2002) {
    const inner = v4Reason(((g1 << 16) | g2) >>> 0);
    return inner ? `a 6to4 form of ${inner}` : undefined;
  }
  if (g0 === 0x0100 && g1 === 0 && g2 === 0 && g3 === 0) return 'a discard-only address';
  if (g0 === 0x2001 && g1 === 0x0db8) return 'a documentation address';
  if (g0 === 0x2001 && g1 === 0) return 'a Teredo tunnel address';
  if ((g0 & 0xfe00) === 0xfc00) return 'a private (unique local) address';
  if ((g0 & 0xffc0) === 0xfe80) return 'a link-local address';
  if ((g0 & 0xffc0) === 0xfec0) return 'a site-local address (deprecated)';
  if ((g0 & 0xff00) === 0xff00) return 'a multicast address';
  return undefined;
}

function nameReason(host: string): string | undefined {
  if (!host.includes('.')) return 'a single-label host name, which only resolves inside a private network';
  for (const suffix of PRIVATE_SUFFIXES) {
    if (host === suffix || host.endsWith(`.${suffix}`)) return `a private-network name (.${suffix})`;
  }
  return undefined;
}

/**
 * Why `hostname` (as WHATWG URL gives it: lower case, IPv6 in brackets) is not a public host, or undefined
 * when it is one. Exported for tests and for embedders writing their own checks.
 */
export function nonPublicHostReason(hostname: string): string | undefined {
  const host = hostname.toLowerCase().replace(/\.$/, '');
  if (host === '') return 'an empty host';
  if (host.startsWith('[') && host.endsWith(']')) {
    const groups = parseIPv6(host.slice(1, -1));
    if (!groups) return 'an IPv6 address that cannot be read';
    return v6Reason(groups);
  }
  const address = ipv4ToInt(host);
  if (address !== undefined) return v4Reason(address);
  // A purely numeric last label that is not a dotted quad is an IPv4 form WHATWG URL would have normalized;
  // seeing one means the URL did not come through it, so it is refused rather than guessed at.
  if (/^(0x[0-9a-f]*|\d+)$/.test(host.slice(host.lastIndexOf('.') + 1))) return 'a numeric host that is not a plain IPv4 address';
  return nameReason(host);
}

/** Normalizes an allow-list entry to a host (lower case, IPv6 in brackets, no port); throws on nonsense. */
export function normalizeAllowedHost(entry: string): string {
  const raw = entry.trim().toLowerCase();
  const wildcard = raw.startsWith('*.');
  const body = wildcard ? raw.slice(2) : raw;
  let host: string;
  try {
    host = new URL(`http://${body}`).hostname;
  } catch {
    throw new RangeError(`"${entry}" is not a host name or IP address`);
  }
  if (host === '' || body.includes('/') || body.includes('@')) throw new RangeError(`"${entry}" is not a host name or IP address`);
  return wildcard ? `*.${host}` : host;
}

function allowed(host: string, allowHosts: readonly string[]): boolean {
  return allowHosts.some((entry) => (entry.startsWith('*.') ? host.endsWith(entry.slice(1)) : host === entry));
}

/** Builds the URL check for NormalizeOptions.checkUrl from the configured policy. */
export function createReferenceUrlCheck(options: ReferenceUrlPolicyOptions = DEFAULT_REFERENCE_URL_POLICY): UrlCheck {
  const allowHosts = options.allowHosts.map(normalizeAllowedHost);
  return (url: URL): string | undefined => {
    const host = url.hostname.toLowerCase().replace(/\.$/, '');
    if (allowed(host, allowHosts)) return undefined;
    switch (options.mode) {
      case 'any':
        return undefined;
      case 'allowlist':
        return `the host ${host} is not on this gateway's list of allowed reference hosts`;
      case 'public': {
        const reason = nonPublicHostReason(host);
        return reason ? `the host ${host} is ${reason}; reference images must be on a public host` : undefined;
      }
      default:
        return 'the reference URL policy is misconfigured';
    }
  };
}
