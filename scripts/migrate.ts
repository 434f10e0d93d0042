/** `npm run db:migrate`: applies the migrations in drizzle/ to DATABASE_URL (default: the dev database). */
import { devDatabaseUrl } from './lib/dev-database.ts';
import { applyMigrations } from './lib/migrate.ts';

const url = process.env.DATABASE_URL ?? devDatabaseUrl();
await applyMigrations(url);
console.log(`migrations applied to ${new URL(url).host}${new URL(url).pathname}`);
