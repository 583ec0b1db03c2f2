/**
 * One webhook HTTP attempt: a POST over agents whose `lookup` refuses non-public addresses at connect time
 * (src/security/address-guard.ts), no redirects followed (node's http client never follows them; a 3xx is a failed
 * attempt), a time limit on the whole attempt, and a bounded read of the receiver's answer (only its status
 * matters; the body is counted and dropped). Never throws: every outcome is a value.
 */
import http from 'node:http';
import https from 'node:https';
import { guardedLookup, literalRefusal, type ResolveAll } from '../security/address-guard';

/** Why an attempt failed (metrics label values). */
export type WebhookFailureReason = 'refused_address' | 'invalid_url' | 'dns_error' | 'connection_error' | 'timeout' | 'redirect' | 'http_status' | 'response_too_large';

/** The result of one attempt. */
export type WebhookAttemptOutcome =
  /** The receiver answered 2xx. */
  | { readonly ok: true; readonly status: number }
  /** Anything else; `retryable` false when another attempt cannot succeed (a refused address, a bad URL). */
  | { readonly ok: false; readonly reason: WebhookFailureReason; readonly retryable: boolean; readonly status?: number; readonly detail: string };

/** Options of WebhookSender. */
export interface WebhookSenderOptions {
  /** Hosts that may resolve to private addresses (WEBHOOK_ALLOW_HOSTS, normalized). */
  readonly allowHosts: readonly string[];
  /** Longest one attempt may take, connect to last byte (default 10 s). */
  readonly timeoutMs?: number;
  /** Most bytes of the receiver's answer read before the connection is dropped (default 64 KiB). */
  readonly maxResponseBytes?: number;
  /** The resolver behind the guard (default dns.lookup; tests map names to loopback). */
  readonly resolveAll?: ResolveAll;
  /** User-Agent header. */
  readonly userAgent?: string;
}

/** Defaults of WebhookSenderOptions. */
export const DEFAULT_WEBHOOK_SENDER_OPTIONS = { timeoutMs: 10_000, maxResponseBytes: 64 * 1024, userAgent: 'image-task-bridge-webhooks/1' } as const;

/** Error codes of a failed lookup (the name does not resolve). */
const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NODATA', 'EAI_NONAME']);

/** Sends webhook POSTs; one instance per deployment (it owns two agents). */
export class WebhookSender {
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;
  private readonly timeoutMs: number;
  private readonly maxResponseBytes: number;
  private readonly userAgent: string;

  constructor(private readonly options: WebhookSenderOptions) {
    const lookup = guardedLookup(options.allowHosts, options.resolveAll);
    // No keep-alive: every attempt connects (and so resolves and is checked) afresh; webhooks are rare.
    this.httpAgent = new http.Agent({ keepAlive: false, lookup });
    this.httpsAgent = new https.Agent({ keepAlive: false, lookup });
    this.timeoutMs = options.timeoutMs ?? DEFAULT_WEBHOOK_SENDER_OPTIONS.timeoutMs;
    this.maxResponseBytes = options.maxResponseBytes ?? DEFAULT_WEBHOOK_SENDER_OPTIONS.maxResponseBytes;
    this.userAgent = options.userAgent ?? DEFAULT_WEBHOOK_SENDER_OPTIONS.userAgent;
  }

  /** POSTs `body` (JSON) with `headers` to `url`; resolves with the outcome, never rejects. */
  send(url: string, headers: Readonly<Record<string, string>>, body: string): Promise<WebhookAttemptOutcome> {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return Promise.resolve({ ok: false, reason: 'invalid_url', retryable: false, detail: 'the callback URL cannot be parsed' });
    }
    if (target.protocol !== 'http:' && target.protocol !== 'https:') {
      return Promise.resolve({ ok: false, reason: 'invalid_url', retryable: false, detail: `scheme ${target.protocol} is not http or https` });
    }
    const refused = literalRefusal(target.hostname, this.options.allowHosts);
    if (refused) return Promise.resolve({ ok: false, reason: 'refused_address', retryable: false, detail: `${refused}; webhooks are only delivered to public addresses` });

    const payload = Buffer.from(body, 'utf8');
    const secure = target.protocol === 'https:';
    return new Promise<WebhookAttemptOutcome>((resolve) => {
      let settled = false;
      const finish = (outcome: WebhookAttemptOutcome): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(outcome);
      };
      const request = (secure ? https : http).request(
        target,
        {
          method: 'POST',
          agent: secure ? this.httpsAgent : this.httpAgent,
          headers: { ...headers, 'content-type': 'application/json', 'content-length': String(payload.length), 'user-agent': this.userAgent },
        },
        (response) => {
          const status = response.statusCode ?? 0;
          let received = 0;
          response.on('data', (chunk: Buffer) => {
            received += chunk.length;
            if (received > this.maxResponseBytes) {
              // The status is known; a receiver streaming an endless answer does not get to hold the attempt.
              response.destroy();
              if (status >= 200 && status < 300) finish({ ok: true, status });
              else finish({ ok: false, reason: 'response_too_large', retryable: true, status, detail: `the answer (HTTP ${status}) was longer than ${this.maxResponseBytes} bytes` });
            }
          });
          const done = (): void => {
            if (status >= 200 && status < 300) finish({ ok: true, status });
            else if (status >= 300 && status < 400) finish({ ok: false, reason: 'redirect', retryable: true, status, detail: `HTTP ${status}: redirects are not followed` });
            else finish({ ok: false, reason: 'http_status', retryable: true, status, detail: `HTTP ${status}` });
          };
          response.on('end', done);
          response.on('close', done);
          response.on('error', () => finish({ ok: false, reason: 'connection_error', retryable: true, status, detail: `the answer (HTTP ${status}) broke off` }));
        },
      );
      const timer = setTimeout(() => {
        finish({ ok: false, reason: 'timeout', retryable: true, detail: `no complete answer within ${this.timeoutMs} ms` });
        request.destroy();
      }, this.timeoutMs);
      request.on('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'EWEBHOOKADDRESS') finish({ ok: false, reason: 'refused_address', retryable: false, detail: err.message });
        else if (err.code !== undefined && DNS_CODES.has(err.code)) finish({ ok: false, reason: 'dns_error', retryable: true, detail: `${target.hostname} does not resolve (${err.code})` });
        else finish({ ok: false, reason: 'connection_error', retryable: true, detail: err.code ?? err.message });
      });
      request.end(payload);
    });
  }

  /** Closes idle sockets of the agents. */
  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}
