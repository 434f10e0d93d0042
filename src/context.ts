import type { Context } from 'hono';
import type { RequestIdVariables } from 'hono/request-id';
import type { AppConfig } from './config.ts';
import type { DatabaseHandle } from './db/client.ts';
import type { UserRow } from './db/schema.ts';
import type { Caller } from './lib/actor.ts';
import type { RequestWork } from './db/traffic.ts';
import type { Bindings } from './env.ts';

export type AppEnv = {
  Bindings: Bindings;
  Variables: RequestIdVariables & {
    config: AppConfig;
    database: DatabaseHandle;
    /** Who the verified access token names (middleware/auth.ts); the user may since be gone, inactive or have revoked it. */
    caller: Caller;
    /** The session the access token belongs to. */
    sessionId: string;
    /** When the presented access token expires (not set for an API key, whose row says). */
    tokenExpiresAtMs: number;
    /** Costly work done for this request, reported in Server-Timing beside the database traffic. */
    work: RequestWork;
    /** The client's own X-Request-Id, when well-formed: logged beside ours, never used as it (middleware/request-id.ts). */
    clientRequestId: string | undefined;
    /** The caller's row once `currentUser` has read it. */
    currentUser: Promise<UserRow> | undefined;
  };
};

export type AppContext = Context<AppEnv>;
