/**
 * Which paths the bridge serves below its mount point: the platform API, the blob route, and the probes and
 * metrics an embedder may move or turn off (docs/embedding.md). One table answers "is this path the
 * bridge's?" for the 405 handler and for the Express handler's fall-through to the host (`next()`).
 */
import { BLOB_ROUTE_PATH } from '../blobs/blob-urls';
import { ConfigError } from '../platform/errors';
import { OPENAPI_PATH } from './openapi';

/** Where the operational endpoints are served, below the mount point; `false` serves none there. */
export interface BridgeRouteOptions {
  /** The liveness probe (default `/healthz`); `false` to leave probes to the host. */
  readonly healthzPath?: string | false;
  /** The readiness probe, which pings the task store (default `/readyz`); `false` to not serve it. */
  readonly readyzPath?: string | false;
  /** Prometheus metrics (default `/metrics`); `false` when the host scrapes `PromMetrics` itself. */
  readonly metricsPath?: string | false;
  /** Serve the OpenAPI 3.1 document at GET /openapi.json (default true; false leaves the path to the host). */
  readonly openapi?: boolean;
}

/** The resolved paths (null: not served). */
export interface BridgeRoutes {
  /** Liveness probe path or null. */
  readonly healthz: string | null;
  /** Readiness probe path or null. */
  readonly readyz: string | null;
  /** Metrics path or null. */
  readonly metrics: string | null;
  /** The OpenAPI document's path or null. */
  readonly openapi: string | null;
  /** Every path pattern the bridge owns with its methods (for 405 answers and fall-through). */
  readonly owned: ReadonlyArray<{ readonly pattern: RegExp; readonly methods: readonly string[] }>;
}

const PATH = /^\/[A-Za-z0-9._~-]+(\/[A-Za-z0-9._~-]+)*$/;
const API_PREFIX = '/v1/images/';

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function resolvePath(name: keyof BridgeRouteOptions, value: string | false | undefined, fallback: string): string | null {
  if (value === false) return null;
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !PATH.test(value) || value.split('/').some((s) => s === '.' || s === '..')) {
    throw new ConfigError(`${name} must be a path like "${fallback}" (segments of A-Z a-z 0-9 . _ ~ -) or false; got ${JSON.stringify(value)}.`);
  }
  if (`${value}/`.startsWith(API_PREFIX) || API_PREFIX.startsWith(`${value}/`) || value === OPENAPI_PATH) {
    throw new ConfigError(`${name} ${JSON.stringify(value)} overlaps the platform API (${API_PREFIX}, ${OPENAPI_PATH}); choose another path.`);
  }
  return value;
}

/** Resolves and checks the options (ConfigError on a bad or clashing path). */
export function bridgeRoutes(options: BridgeRouteOptions = {}): BridgeRoutes {
  const healthz = resolvePath('healthzPath', options.healthzPath, '/healthz');
  const readyz = resolvePath('readyzPath', options.readyzPath, '/readyz');
  const metrics = resolvePath('metricsPath', options.metricsPath, '/metrics');
  const openapi = options.openapi === false ? null : OPENAPI_PATH;
  const ops = [healthz, readyz, metrics].filter((p): p is string => p !== null);
  if (new Set(ops).size !== ops.length) throw new ConfigError(`healthzPath, readyzPath and metricsPath must differ; got ${ops.join(', ')}.`);
  const owned = [
    { pattern: /^\/v1\/images\/tasks\/?$/, methods: ['POST'] },
    { pattern: /^\/v1\/images\/tasks\/[^/]+\/?$/, methods: ['GET', 'HEAD'] },
    { pattern: new RegExp(`^${escape(BLOB_ROUTE_PATH)}/[^/]+/?$`), methods: ['GET', 'HEAD'] },
    ...[...ops, ...(openapi !== null ? [openapi] : [])].map((p) => ({ pattern: new RegExp(`^${escape(p)}/?$`), methods: ['GET', 'HEAD'] })),
  ];
  return { healthz, readyz, metrics, openapi, owned };
}

/** The owned route matching `path` (no query string), if any. */
export function ownedRoute(routes: BridgeRoutes, path: string): BridgeRoutes['owned'][number] | undefined {
  return routes.owned.find((r) => r.pattern.test(path));
}
