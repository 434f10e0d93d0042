/**
 * `npm run dev`: an embedded PostgreSQL (unless DATABASE_URL is set), the migrations, then
 * `wrangler dev` on http://127.0.0.1:8787 wired to that database. Ctrl-C stops both.
 */
import { defaultDataDirectory, startEmbeddedPostgres, type EmbeddedPostgres } from './lib/embedded-postgres.ts';
import { DEV_DATABASE, devDatabaseUrl, relativeToRepo, REPO_ROOT } from './lib/dev-database.ts';
import { spawnWranglerDev, stopChild } from './lib/wrangler-dev.ts';
import { ensureDevVars } from './lib/dev-vars.ts';
import { applyMigrations } from './lib/migrate.ts';

const say = (message: string) => console.log(`[aegisflow] ${message}`);

async function main() {
  if (await ensureDevVars()) say('created .dev.vars from .dev.vars.example with a random JWT_SECRET');

  let database: EmbeddedPostgres | undefined;
  let url = process.env.DATABASE_URL;
  if (url) {
    say('using the database in DATABASE_URL');
  } else {
    const dataDir = defaultDataDirectory(REPO_ROOT, 'postgres');
    say(`starting embedded PostgreSQL (data in ${relativeToRepo(dataDir)})`);
    database = await startEmbeddedPostgres({ dataDir, port: DEV_DATABASE.port, password: DEV_DATABASE.password });
    await database.createDatabase(DEV_DATABASE.name);
    url = devDatabaseUrl();
    say(`PostgreSQL is listening on 127.0.0.1:${database.port} (${url})`);
  }

  await applyMigrations(url);
  say('migrations applied');

  const child = spawnWranglerDev({ port: Number(process.env.PORT ?? 8787), databaseUrl: url });

  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    await stopChild(child);
    if (database) {
      say('stopping PostgreSQL');
      await database.stop();
    }
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));
  child.on('exit', (code) => void stop(code ?? 0));
}

main().catch((error: unknown) => {
  console.error(`[aegisflow] ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
