import { drizzle } from 'drizzle-orm/postgres-js';
import type postgresType from 'postgres';
import { inlineParameters } from '../../src/db/inline.ts';
import { allowWorkerModulesInNode } from '../../scripts/lib/worker-modules.ts';
import type { Database } from '../../src/db/client.ts';

/**
 * The query plan of the statement GET /projects?limit=20 sends for `callerId`: the projects service builds
 * it here exactly as in the worker (drizzle, the same prepared shape), a logger catches its text and
 * values, and the seam writes them in as the worker does (db/inline.ts). No statement is written by hand.
 */
export async function explainProjectList(sql: postgresType.Sql, callerId: string): Promise<string[]> {
  allowWorkerModulesInNode();
  const { listProjects } = await import('../../src/modules/projects/projects.list.ts');
  const sent: { query: string; params: unknown[] }[] = [];
  const db = drizzle(sql, { logger: { logQuery: (query, params) => sent.push({ query, params }) } }) as unknown as Database;
  await listProjects(db, callerId, { sort: '-created_at', page: { limit: 20, offset: 0, after: undefined } });
  const statement = inlineParameters(sent[0]!.query, sent[0]!.params);
  const rows = await sql.unsafe(`explain (analyze, buffers, costs off, timing off, summary off) ${statement}`);
  return [`-- ${sent.length} statement(s); the first, as sent:`, statement, '', ...rows.map((row) => row['QUERY PLAN'] as string)];
}
