import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { postgres } from '../scripts/lib/node-postgres.ts';
import type { TestProject } from 'vitest/node';
import { freePort, startEmbeddedPostgres } from '../scripts/lib/embedded-postgres.ts';
import { copyDocsAssets } from '../scripts/docs-assets.mjs';
import { applyMigrations } from '../scripts/lib/migrate.ts';
import { runUserCli } from './cli/run-cli.ts';
import { startDatabaseProxy } from './db-proxy.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
    proxiedDatabaseUrl: string;
    proxyControlUrl: string;
    cliAdmin: { email: string; password: string };
    /** The pinned swagger-ui-dist: its version and the SHA-256 of its bundle, as installed. */
    swaggerUi: { version: string; bundleSha256: string };
  }
}

/**
 * Gives the run a fresh database with every migration applied: a throwaway embedded PostgreSQL by
 * default, or a new database on the server in DATABASE_URL. Also starts the outage proxy and puts the
 * Swagger UI files where the ASSETS binding serves them.
 */
export default async function setup(project: TestProject) {
  // wrangler's build command makes public/ for dev and deploy; the vitest plugin does not run it.
  await copyDocsAssets();
  const swaggerUiDist = path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  project.provide('swaggerUi', {
    version: JSON.parse(await fs.readFile(path.join(swaggerUiDist, 'package.json'), 'utf8')).version,
    bundleSha256: createHash('sha256')
      .update(await fs.readFile(path.join(swaggerUiDist, 'swagger-ui-bundle.js')))
      .digest('hex'),
  });
  const cleanups: (() => Promise<unknown>)[] = [];
  const database = `aegisflow_test_${Date.now()}_${process.pid}`;
  let databaseUrl: string;

  if (process.env.DATABASE_URL) {
    const admin = postgres(process.env.DATABASE_URL, { max: 1, onnotice: () => {} });
    await admin.unsafe(`create database "${database}"`);
    await admin.end();
    const url = new URL(process.env.DATABASE_URL);
    url.pathname = `/${database}`;
    databaseUrl = url.toString();
    cleanups.push(async () => {
      const sql = postgres(process.env.DATABASE_URL!, { max: 1, onnotice: () => {} });
      await sql.unsafe(`drop database if exists "${database}" with (force)`);
      await sql.end();
    });
  } else {
    const root = await fs.mkdtemp(path.join(os.tmpdir(), 'aegisflow-test-'));
    await fs.chmod(root, 0o755);
    const server = await startEmbeddedPostgres({
      dataDir: path.join(root, 'data'),
      port: await freePort(),
      password: 'test-password',
      // Durability buys nothing for a throwaway database and costs seconds per run.
      settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off', max_connections: '300' },
    });
    await server.createDatabase(database);
    databaseUrl = server.url(database);
    cleanups.push(
      () => fs.rm(root, { recursive: true, force: true }),
      () => server.stop(),
    );
  }

  await applyMigrations(databaseUrl);
  const target = new URL(databaseUrl);
  const proxy = await startDatabaseProxy(Number(target.port || 5432));
  cleanups.push(() => proxy.close());
  const proxied = new URL(databaseUrl);
  proxied.hostname = '127.0.0.1';
  proxied.port = String(proxy.port);

  // The first-admin bootstrap a newcomer performs, through the real command-line tool; a worker test then
  // logs in as this admin and manages users through the API alone.
  const cliAdmin = { email: `bootstrap-admin-${Date.now()}@example.com`, password: `bootstrap-${crypto.randomUUID()}` };
  const created = await runUserCli(
    'create',
    ['--email', cliAdmin.email, '--password', cliAdmin.password, '--role', 'admin'],
    databaseUrl,
  );
  if (created.code !== 0) throw new Error(`user:create failed during setup: ${created.stderr}`);

  project.provide('cliAdmin', cliAdmin);
  project.provide('databaseUrl', databaseUrl);
  project.provide('proxiedDatabaseUrl', proxied.toString());
  project.provide('proxyControlUrl', proxy.controlUrl);

  return async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  };
}
