/**
 * The connect-time address guard, for every request the bridge makes to a URL it did not configure itself:
 * webhook delivery (callback URLs), the mirroring of upstream result images, and the reference images the engine
 * fetches for upstreams that take files (src/tasks/reference-bytes.ts). A URL is checked by its text
 * first, but a public-looking name can resolve to a private address, or re-resolve to one later (DNS
 * rebinding). So the check that counts runs on the address the socket is about to connect to: a `lookup` for
 * the http(s) agent that resolves the name, refuses any non-public answer, and hands only checked addresses to
 * the socket. IP-literal hosts are never looked up by node, so `literalRefusal` judges them the same way right
 * before the request is made. Hosts on the caller's allow list skip the check (WEBHOOK_ALLOW_HOSTS for an
 * operator's internal receiver, RESULT_URL_ALLOW_HOSTS for an internal upstream's images, REFERENCE_URL_ALLOW_HOSTS
 * for an internal image host).
 */
import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { nonPublicHostReason, normalizeAllowedHost } from './url-policy';

/** Resolves a host name to all of its addresses (dns.lookup with `all: true` by default; tests inject one). */
export type ResolveAll = (hostname: string, options: LookupAllOptions, callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) => void;

/** The `code` of an AddressRefusedError (its first user was webhook delivery; every caller compares this). */
export const ADDRESS_REFUSED_CODE = 'EWEBHOOKADDRESS';

/** The error a refused address raises; `code` tells delivery that retrying cannot help. */
export class AddressRefusedError extends Error {
  /** Recognised by code (errors cross module boundaries). */
  readonly code = ADDRESS_REFUSED_CODE;
  constructor(message: string) {
    super(message);
    this.name = 'AddressRefusedError';
  }
}

/** Why `address` (an IP address without brackets) may not be connected to, or undefined when it is public. */
export function addressRefusal(address: string): string | undefined {
  const family = isIP(address);
  if (family === 0) return 'not an IP address';
  return nonPublicHostReason(family === 6 ? `[${address}]` : address);
}

/** Whether `hostname` (lower case, IPv6 without brackets or with) is on the allow list (exact or `*.suffix`). */
export function hostAllowed(hostname: string, allowHosts: readonly string[]): boolean {
  const bare = hostname.toLowerCase().replace(/\.$/, '');
  const host = isIP(bare.replace(/^\[|\]$/g, '')) === 6 ? `[${bare.replace(/^\[|\]$/g, '')}]` : bare;
  return allowHosts.some((entry) => (entry.startsWith('*.') ? host.endsWith(entry.slice(1)) : host === entry));
}

/** Normalizes allow-list entries (WEBHOOK_ALLOW_HOSTS, same syntax as REFERENCE_URL_ALLOW_HOSTS); throws RangeError on nonsense. */
export function normalizeAllowHosts(entries: readonly string[]): string[] {
  return entries.map(normalizeAllowedHost);
}

/**
 * For an IP-literal host (which node connects to without a lookup): why it is refused, or undefined when it is
 * public, allowed, or not a literal (then the guarded lookup judges what it resolves to).
 */
export function literalRefusal(hostname: string, allowHosts: readonly string[]): string | undefined {
  const bare = hostname.replace(/^\[|\]$/g, '');
  if (isIP(bare) === 0 || hostAllowed(hostname, allowHosts)) return undefined;
  const reason = addressRefusal(bare);
  return reason ? `${bare} is ${reason}` : undefined;
}

/**
 * A `lookup` for http.Agent / https.Agent: resolves every address of the name and refuses the connection
 * when any of them is not public (a name that mixes public and private answers is not trusted either).
 * Answers in the form node asked for (`all` or a single address).
 */
export function guardedLookup(
  allowHosts: readonly string[],
  resolveAll: ResolveAll = dnsLookup as unknown as ResolveAll,
  /** The end of the refusal's message: what is only done with public addresses. */
  rule = 'webhooks are only delivered to public addresses',
): LookupFunction {
  return (hostname, options, callback) => {
    const all = (options as { all?: boolean }).all === true;
    const family = (options as { family?: number | string }).family;
    const resolveOptions: LookupAllOptions = { all: true, ...(typeof family === 'number' ? { family } : {}) };
    resolveAll(hostname, resolveOptions, (err, addresses) => {
      if (err) {
        callback(err, all ? [] : '', 0);
        return;
      }
      if (addresses.length === 0) {
        callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), all ? [] : '', 0);
        return;
      }
      if (!hostAllowed(hostname, allowHosts)) {
        for (const a of addresses) {
          const reason = addressRefusal(a.address);
          if (reason) {
            callback(new AddressRefusedError(`${hostname} resolves to ${a.address}, ${reason}; ${rule}`), all ? [] : '', 0);
            return;
          }
        }
      }
      if (all) {
        (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
        return;
      }
      const first = addresses[0] as LookupAddress;
      callback(null, first.address, first.family);
    });
  };
}
