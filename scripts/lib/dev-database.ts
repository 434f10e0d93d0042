import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The embedded development database `npm run dev` starts; wrangler.toml's localConnectionString matches it. */
export const DEV_DATABASE = {
  port: Number(process.env.DEV_POSTGRES_PORT ?? 54329),
  password: 'postgres',
  name: 'aegisflow',
};

export const devDatabaseUrl = () =>
  `postgres://postgres:${DEV_DATABASE.password}@127.0.0.1:${DEV_DATABASE.port}/${DEV_DATABASE.name}`;

/** A path as a user reads it: relative when inside the checkout, absolute otherwise. */
export function relativeToRepo(target: string): string {
  const relative = path.relative(REPO_ROOT, target);
  return relative.startsWith('..') || path.isAbsolute(relative) ? target : relative || '.';
}
