/**
 * `callback_url` on submit: a documented extension of the platform API (docs/operations.md "Webhooks"). The HTTP layer
 * takes it out of the request body (JSON or multipart) before the platform request is normalized, checks it,
 * and hands it to the task API as SubmitOptions.callbackUrl. The check is the reference-URL policy's
 * (src/security/url-policy.ts: no loopback, private, link-local or private-network names) with
 * WEBHOOK_ALLOW_HOSTS as its exceptions, plus http(s) only and no credentials in the URL. It judges the text;
 * the address actually connected to is checked again at delivery (src/security/address-guard.ts).
 */
import { z } from 'zod';
import { BridgeError, ValidationError } from '../platform/errors';
import type { RawSubmit } from '../platform/submit-request';
import { nonPublicHostReason } from '../security/url-policy';
import { hostAllowed } from '../security/address-guard';

/** The request field. */
export const CALLBACK_URL_FIELD = 'callback_url';

/** The field as the HTTP API documents it (src/http/openapi.ts adds it to the platform request schema). */
export const callbackUrlFieldSchema = z
  .string()
  .optional()
  .describe(
    'Extension: where the finished task (succeeded or failed) is POSTed, signed per Standard Webhooks (docs/operations.md "Webhooks"). An http(s) URL on a public host or a host on WEBHOOK_ALLOW_HOSTS, at most MAX_URL_LENGTH characters, no credentials; 400 unsupported_parameter when the gateway has no WEBHOOK_SECRET. Never echoed.',
  );

/** How callback URLs are judged. */
export interface CallbackUrlPolicy {
  /** False when the deployment has no WEBHOOK_SECRET: a callback_url is then refused, never ignored. */
  readonly enabled: boolean;
  /** Hosts accepted even when they name a private address (WEBHOOK_ALLOW_HOSTS). */
  readonly allowHosts: readonly string[];
  /** Longest URL accepted (MAX_URL_LENGTH). */
  readonly maxUrlLength: number;
}

/** A submit with its callback URL taken out. */
export interface SplitSubmit {
  /** The platform request without `callback_url`. */
  readonly raw: RawSubmit;
  /** The checked callback URL, when one was sent. */
  readonly callbackUrl?: string;
}

function invalid(message: string): ValidationError {
  return new ValidationError('invalid_parameter', message, CALLBACK_URL_FIELD);
}

/**
 * Takes `callback_url` out of the body and checks it; throws a 400 envelope naming callback_url when it is
 * not acceptable. A body that is not an object is passed on untouched (the normalizer refuses it).
 */
export function takeCallbackUrl(raw: RawSubmit, policy: CallbackUrlPolicy): SplitSubmit {
  const body = raw.body;
  if (typeof body !== 'object' || body === null || Array.isArray(body) || !Object.prototype.hasOwnProperty.call(body, CALLBACK_URL_FIELD)) return { raw };
  const { [CALLBACK_URL_FIELD]: value, ...rest } = body as Record<string, unknown>;
  const stripped: RawSubmit = { ...raw, body: rest };
  // null means "not sent", as for every optional field.
  if (value === null || value === undefined) return { raw: stripped };
  if (!policy.enabled) {
    throw new BridgeError(
      'unsupported_parameter',
      'This gateway does not deliver webhooks (its operator has not set WEBHOOK_SECRET); drop callback_url and poll GET /v1/images/tasks/{task_id}.',
      CALLBACK_URL_FIELD,
    );
  }
  if (typeof value !== 'string') throw invalid('callback_url must be a string: an http(s) URL.');
  if (value.length > policy.maxUrlLength) throw invalid(`callback_url is longer than ${policy.maxUrlLength} characters.`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid('callback_url must be an absolute http(s) URL.');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalid(`callback_url must use http or https; scheme ${url.protocol} is not allowed.`);
  if (url.username || url.password) throw invalid('callback_url must not carry credentials in the URL; authenticate webhooks by their signature (webhook-signature).');
  const host = url.hostname.toLowerCase().replace(/\.$/, '');
  const reason = hostAllowed(host, policy.allowHosts) ? undefined : nonPublicHostReason(host);
  if (reason) throw invalid(`callback_url is not allowed: the host ${host} is ${reason}; webhooks are only delivered to public hosts.`);
  return { raw: stripped, callbackUrl: url.toString() };
}
