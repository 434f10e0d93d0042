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
    currentUser: UserRow;
  };
};

export type AppContext = Context<AppEnv>;
