/**
 * Classification of upstream answers: an accepted status becomes an UpstreamResponse, anything else one
 * typed UpstreamError whose message quotes the upstream (cut, on one line, with secrets removed).
 */
import type { ImageAdapter, UpstreamRequest, UpstreamResponse } from '../adapter-kit/contract';
import { UpstreamError, type UpstreamFailureKind } from '../platform/errors';
import { redactSecrets } from './redact';
import { parseRetryAfter } from './upstream-retry';

/** Longest piece of upstream text quoted in an error message. */
const MAX_QUOTED_CHARS = 500;
/** Upstream text is cut to this before redaction (bounds the regex work on huge error pages). */
const MAX_SCANNED_CHARS = 64 * 1024;

/** What the transport read: the status, the headers it needs, the body bytes. */
export interface RawUpstreamAnswer {
  /** HTTP status. */
  readonly status: number;
  /** Response headers (lower-case names). */
  readonly headers: Readonly<Record<string, unknown>>;
  /** The body as read (at most the size limit). */
  readonly body: Buffer | string | undefined;
}

/** Who answered and what was sent, for the messages. */
export interface ClassifyContext {
  /** Channel id, named in every message. */
  readonly channelId: string;
  /** The adapter, for describeError. */
  readonly adapter: ImageAdapter;
  /** The request that was sent. */
  readonly request: UpstreamRequest;
  /** Strings removed from any upstream text quoted (the key and headers derived from it). */
  readonly secrets: readonly string[];
  /** Now, for an HTTP-date Retry-After. */
  readonly nowMs: number;
}

/** The parsed response, or throws the UpstreamError the answer stands for. */
export function classifyUpstreamAnswer(ctx: ClassifyContext, answer: RawUpstreamAnswer): UpstreamResponse {
  const { channelId, adapter, request, secrets } = ctx;
  const status = answer.status;
  const raw = Buffer.isBuffer(answer.body) ? answer.body.toString('utf8') : typeof answer.body === 'string' ? answer.body : '';
  const text = raw.trim();
  const quote = (s: string): string => truncate(redactSecrets(s.slice(0, MAX_SCANNED_CHARS), secrets));
  const accepted = (status >= 200 && status < 300) || (request.acceptStatuses ?? []).includes(status);

  if (accepted) {
    if (text === '') {
      if (status === 204 || status === 205 || !(status >= 200 && status < 300)) return { status, body: undefined };
      throw new UpstreamError('malformed', `upstream ${channelId} answered HTTP ${status} with an empty body; a JSON body was expected.`, status);
    }
    try {
      return { status, body: JSON.parse(text) as unknown };
    } catch {
      throw new UpstreamError('malformed', `upstream ${channelId} answered HTTP ${status} with a body that is not JSON: "${quote(text)}".`, status);
    }
  }

  let json: unknown;
  try {
    json = text === '' ? undefined : (JSON.parse(text) as unknown);
  } catch {
    json = undefined;
  }
  const described = json !== undefined ? safeDescribe(adapter, json) : undefined;
  const detail = described ?? (text === '' ? undefined : text);
  // "<what happened>: <upstream's words>." or "<what happened>." — always one well-formed sentence.
  const said = (what: string): string => (detail ? `${what}: ${endSentence(quote(detail))}` : `${what}.`);

  if (status >= 300 && status < 400) {
    const location = answer.headers['location'];
    const to = typeof location === 'string' ? ` to ${quote(stripQuery(location))}` : '';
    return fail('redirect', `upstream ${channelId} answered HTTP ${status} (a redirect${to}); redirects are not followed.`);
  }
  if (status === 429) {
    const retryAfter = parseRetryAfter(answer.headers['retry-after'], ctx.nowMs);
    const wait = retryAfter !== undefined ? ` It asked to wait ${retryAfter} s.` : '';
    return fail('rate_limited', `${said(`upstream ${channelId} is rate limiting requests (HTTP 429)`)}${wait}`, retryAfter);
  }
  if (status === 401 || status === 403) {
    return fail('auth', `${said(`upstream ${channelId} refused the channel's credentials (HTTP ${status})`)} Check the API key configured for channel ${channelId}.`);
  }
  // 402 Payment Required (Replicate: no credit left) is the channel's account, like a refused key: no job was
  // taken, so another channel may take the task.
  if (status === 402) {
    return fail('auth', `${said(`upstream ${channelId} refused the channel's account: payment required (HTTP 402)`)} Check the billing of the account of channel ${channelId}.`);
  }
  if (status === 404) {
    return fail('not_found', said(`upstream ${channelId} answered HTTP 404 for ${request.method} ${quote(stripQuery(request.path))}`));
  }
  if (status >= 400 && status < 500) {
    return fail('rejected', said(`upstream ${channelId} rejected the request (HTTP ${status})`));
  }
  return fail('server_error', said(`upstream ${channelId} failed with HTTP ${status}`));

  function fail(kind: UpstreamFailureKind, message: string, retryAfterSeconds?: number): never {
    throw new UpstreamError(kind, message, status, retryAfterSeconds);
  }
}

function safeDescribe(adapter: ImageAdapter, body: unknown): string | undefined {
  try {
    const text = adapter.describeError?.(body);
    return typeof text === 'string' && text.trim() !== '' ? text.trim() : undefined;
  } catch {
    return undefined;
  }
}

function truncate(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ');
  return oneLine.length > MAX_QUOTED_CHARS ? `${oneLine.slice(0, MAX_QUOTED_CHARS)}…` : oneLine;
}

function endSentence(text: string): string {
  return /[.!?…]$/.test(text) ? text : `${text}.`;
}

function stripQuery(pathOrUrl: string): string {
  return pathOrUrl.replace(/[?#].*$/, '');
}
