/**
 * Helpers for HTTP tests: a gateway on 127.0.0.1:0 with a nock'ed hub (or the sandbox), and small fetch helpers.
 */
import type { DependencyContainer } from 'tsyringe';
import { loadConfig, type AppConfig } from '../../src/config/config';
import { startGateway, type Gateway, type StartGatewayOptions } from '../../src/http/gateway';

/** Client keys of the tests: alice and bob. */
export const KEY_A = 'sk-test-alice-0001';
export const KEY_B = 'sk-test-bob-00002';
/** The nock'ed hub. */
export const HUB = 'http://hub.test';
export const HUB_KEY = 'hub-secret-key-never-shown';

/** Configuration for a gateway in front of the nock'ed hub. */
export function hubConfig(env: Record<string, string> = {}): AppConfig {
  return loadConfig({
    PORT: '0',
    GATEWAY_API_KEYS: `${KEY_A}:alice,${KEY_B}:bob`,
    HUB_BASE_URL: HUB,
    HUB_API_KEY: HUB_KEY,
    LOG_LEVEL: 'silent',
    ...env,
  });
}

/** Starts a gateway with process metrics off (they are global observers). */
export function start(config: AppConfig, options: StartGatewayOptions = {}): Promise<Gateway> {
  return startGateway(config, { processMetrics: false, ...options });
}

/** Bearer header for a key. */
export function auth(key: string): Record<string, string> {
  return { authorization: `Bearer ${key}` };
}

/** A parsed HTTP response. */
export interface Reply {
  status: number;
  headers: Headers;
  body: unknown;
  text: string;
}

/** fetch + JSON parse when the body is JSON. */
export async function call(url: string, init: RequestInit = {}): Promise<Reply> {
  const res = await fetch(url, init);
  const text = await res.text();
  let body: unknown = text;
  if ((res.headers.get('content-type') ?? '').includes('json') && text.length > 0) body = JSON.parse(text);
  return { status: res.status, headers: res.headers, body, text };
}

/** POST JSON. */
export function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  return call(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
}

/** Resolve helper with a type. */
export function resolve<T>(c: DependencyContainer, token: symbol | (new (...args: never[]) => T)): T {
  return c.resolve<T>(token as never);
}
