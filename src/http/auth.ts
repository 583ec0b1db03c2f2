/**
 * The default Authenticator: `Authorization: Bearer <key>` checked against GATEWAY_API_KEYS.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { inject, injectable } from 'tsyringe';
import { CONFIG } from '../di/tokens';
import type { AppConfig } from '../config/config';
import type { Authenticator, Principal } from '../tasks/ports';

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** Reads the bearer token of an Authorization header (scheme case-insensitive), or undefined. */
export function bearerToken(authorization: string | undefined): string | undefined {
  if (authorization === undefined) return undefined;
  const m = /^\s*Bearer\s+(\S+)\s*$/i.exec(authorization);
  return m ? m[1] : undefined;
}

@injectable()
export class ApiKeyAuthenticator implements Authenticator {
  private readonly keys: ReadonlyArray<{ digest: Buffer; principal: Principal }>;

  constructor(@inject(CONFIG) config: AppConfig) {
    this.keys = config.apiKeys.map((k) => ({ digest: digest(k.key), principal: { owner: k.owner, keyLabel: k.label } }));
  }

  async authenticate(authorization: string | undefined): Promise<Principal | undefined> {
    const token = bearerToken(authorization);
    if (token === undefined) return undefined;
    // Equal-length digests make timingSafeEqual applicable, and every key is compared (no early exit),
    // so the response time says nothing about which key, or how much of one, matched.
    const presented = digest(token);
    let found: Principal | undefined;
    for (const k of this.keys) {
      if (timingSafeEqual(presented, k.digest)) found = k.principal;
    }
    return found;
  }
}
