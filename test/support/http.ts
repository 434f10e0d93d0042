import { env, exports } from 'cloudflare:workers';
import { createApp } from '../../src/app.ts';
import type { Bindings } from '../../src/env.ts';
import { parseTrafficTiming, parseWorkTiming, type Traffic } from '../../src/db/traffic.ts';
import { assertKeepsContract } from './contract.ts';
import { PROBLEM_CODES, type ProblemCode } from '../../src/lib/problem-codes.ts';

export const BASE_URL = 'http://aegisflow.test';

export interface CallOptions {
  token?: string;
  /** Serialised as JSON with `Content-Type: application/json`. */
  json?: unknown;
  /** Sent as is (for malformed bodies); set the content type through `headers`. */
  body?: BodyInit;
  headers?: Record<string, string>;
  /**
   * Whether the request arrives as Cloudflare's edge forwards it (`request.cf` set, so `CF-Connecting-IP`
   * is the client's address); default true. False: as through `wrangler dev` or a proxy.
   */
  viaEdge?: boolean;
}

export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

/**
 * Every test request comes from its own address unless it names one, so the per-IP limits on login and
 * signup (strict outside development) only meet the tests that aim at them.
 */
export function withClientAddress(init?: HeadersInit): Headers {
  const headers = new Headers(init);
  if (!headers.has('CF-Connecting-IP')) {
    const word = () => Math.floor(Math.random() * 0x10000).toString(16);
    headers.set('CF-Connecting-IP', `2001:db8:${word()}:${word()}::${word()}`);
  }
  return headers;
}

/** What the edge attaches to a request, as far as the API looks (only that it is there). */
export const EDGE_CF = { colo: 'TST', country: 'XX' } as unknown as IncomingRequestCfProperties;

/** One request to the worker through its real entry point (`exports.default.fetch`), as a client sends it. */
export async function call<T = any>(method: string, path: string, options: CallOptions = {}): Promise<ApiResponse<T>> {
  const headers = withClientAddress(options.headers);
  if (options.token) headers.set('Authorization', `Bearer ${options.token}`);
  let body = options.body;
  if (options.json !== undefined) {
    headers.set('Content-Type', 'application/json');
    body = JSON.stringify(options.json);
  }
  const cf = options.viaEdge === false ? undefined : EDGE_CF;
  const request = new Request(`${BASE_URL}${path}`, { method, headers, body, cf });
  return checked<T>(request, typeof body === 'string' ? body : undefined, await exports.default.fetch(request));
}

/** The response, parsed, once it and its request are held against the contract (support/contract.ts). */
async function checked<T>(request: Request, sentBody: string | undefined, response: Response): Promise<ApiResponse<T>> {
  const parsed = await parse<T>(response);
  assertKeepsContract({
    method: request.method,
    url: request.url,
    requestHeaders: request.headers,
    requestBody: sentBody,
    status: parsed.status,
    responseHeaders: parsed.headers,
    responseText: parsed.text,
  });
  return parsed;
}

export async function parse<T>(response: Response): Promise<ApiResponse<T>> {
  const text = await response.text();
  const isJson = /json/.test(response.headers.get('Content-Type') ?? '');
  return {
    status: response.status,
    headers: response.headers,
    text,
    body: (isJson && text ? JSON.parse(text) : text) as T,
  };
}

/** The statements the request ran and the round trips they took, as the worker reports them in Server-Timing (enabled in tests). */
export function databaseTraffic(response: ApiResponse): Traffic {
  const header = response.headers.get('Server-Timing');
  const traffic = parseTrafficTiming(header);
  if (!traffic) throw new Error(`no Server-Timing database traffic on the response: ${header}`);
  return traffic;
}

/**
 * Asserts the RFC 9457 shape every error shares, a `code` of the list whose status is the response's, and,
 * when given, that code; returns the problem.
 */
export function expectProblem(response: ApiResponse, status: number, code?: ProblemCode) {
  if (response.status !== status) {
    throw new Error(`expected ${status}, got ${response.status}: ${response.text}`);
  }
  const sent = (response.body as { code?: ProblemCode }).code;
  if (!sent || !(sent in PROBLEM_CODES) || PROBLEM_CODES[sent][0] !== status)
    throw new Error(`no code of status ${status}: ${response.text}`);
  if (code !== undefined && sent !== code) throw new Error(`expected code ${code}, got ${sent}: ${response.text}`);
  if (!response.headers.get('Content-Type')?.startsWith('application/problem+json')) {
    throw new Error(`expected application/problem+json, got ${response.headers.get('Content-Type')}`);
  }
  const problem = response.body as {
    type: string;
    title: string;
    status: number;
    detail: string;
    code: ProblemCode;
    request_id: string;
  };
  if (problem.status !== status || typeof problem.title !== 'string' || typeof problem.detail !== 'string') {
    throw new Error(`not a problem document: ${response.text}`);
  }
  if (problem.request_id !== response.headers.get('X-Request-Id'))
    throw new Error('request_id does not match X-Request-Id');
  return response.body as typeof problem & { errors?: { path: string; message: string }[] };
}

/**
 * One request to a freshly built app under configuration changes (CORS_ORIGINS, APP_ENV, ...), with the
 * same bindings otherwise; `exports.default` always runs the test configuration.
 */
export async function callWithConfig<T = any>(
  overrides: Partial<Record<keyof Bindings, string>>,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  init: { json?: unknown; viaEdge?: boolean } = {},
) {
  const app = createApp();
  const sent = withClientAddress(headers);
  if (init.json !== undefined) sent.set('Content-Type', 'application/json');
  const body = init.json === undefined ? undefined : JSON.stringify(init.json);
  const request = new Request(`${BASE_URL}${path}`, {
    method,
    headers: sent,
    body,
    cf: init.viaEdge ? EDGE_CF : undefined,
  });
  return checked<T>(request, body, await app.request(request, undefined, { ...env, ...overrides }));
}

/** Configuration overrides for APP_ENV development or production, which refuse the tests' cheap password hashing. */
export const runningAs = (appEnv: 'development' | 'production') => ({ APP_ENV: appEnv, PASSWORD_SCRYPT_LOG_N: '14' });

/** The target of the `rel` link in a response's Link header (path and query), if there is one. */
export function linkTarget(response: ApiResponse, rel: 'next' | 'prev'): string | undefined {
  const links = response.headers.get('Link') ?? '';
  return new RegExp(`<([^>]+)>; rel="${rel}"`).exec(links)?.[1];
}

/** How many password hashes the request computed, as the worker reports it in Server-Timing (enabled in tests). */
export function passwordHashes(response: ApiResponse): number {
  const work = parseWorkTiming(response.headers.get('Server-Timing'));
  if (!work)
    throw new Error(`no Server-Timing password work on the response: ${response.headers.get('Server-Timing')}`);
  return work.passwordHashes;
}
