import type { Context } from 'hono';
import type { RequestIdVariables } from 'hono/request-id';
import type { AppConfig } from './config.ts';
import type { DatabaseHandle } from './db/client.ts';
import type { UserRow } from './db/schema.ts';
import type { Bindings } from './env.ts';

export type AppEnv = {
  Bindings: Bindings;
  Variables: RequestIdVariables & {
    config: AppConfig;
    database: DatabaseHandle;
    /** The subject of the verified access token (middleware/auth.ts); the user may since be gone or inactive. */
    callerId: string;
    /** The caller's row once `currentUser` has read it. */
    currentUser: Promise<UserRow> | undefined;
  };
};

export type AppContext = Context<AppEnv>;
