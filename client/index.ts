/**
 * The typed AegisFlow client: openapi-fetch over the types openapi-typescript generates from the committed
 * contract (client/schema.d.ts, `npm run openapi`). Paths, parameters, bodies and responses are checked
 * by the compiler against openapi.json, the same document CI checks against the routes.
 */
import createClient, { type Client, type ClientOptions } from 'openapi-fetch';
import type { paths } from './schema.d.ts';

export type { components, operations, paths } from './schema.d.ts';
export type AegisFlowClient = Client<paths>;

export interface AegisFlowClientOptions extends ClientOptions {
  /**
   * An access token from `POST /auth/login`, or an API key (`afk_...`) from `POST /auth/api-keys`, sent as
   * `Authorization: Bearer ...` on every request.
   */
  token?: string;
}

export function createAegisFlowClient({ token, headers, ...options }: AegisFlowClientOptions): AegisFlowClient {
  return createClient<paths>({
    ...options,
    headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...headers },
  });
}
